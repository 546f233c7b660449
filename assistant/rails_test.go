package assistant_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
)

// TestAssistantPaysAnotherBank: "pay lee 20" to a payee at another bank,
// through the wiring's ChatRails over the real rails and railsim on
// loopback: the same confirmation and limits as any payment (the new
// payee's cooling-off among them), once however often it is confirmed, and
// the status in plain words when asked, a return with its reason; amounts
// stay out of the chat under the default (minimal) privacy.
func TestAssistantPaysAnotherBank(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	ctx := context.Background()
	sim := httptest.NewServer(railsim.New(railsim.Options{}).Handler())
	t.Cleanup(sim.Close)
	tr := &railsim.Client{Base: sim.URL, Routing: "021000089"}
	rs := rails.New(b.db.Rails(), b.led, rails.Options{Origin: rails.Origin{Routing: "021000089"}, Screener: rails.MustSample(), Now: b.clk.Now})
	for _, p := range []rails.Payee{{Name: "Lee Park", Nickname: "lee", Number: "123456789"}, {Name: "Ann Short", Nickname: "ann", Number: "1111111111"}} {
		p.Customer, p.Routing = b.customer, "231380104"
		if _, err := rs.AddPayee(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	b.a = assistant.New(assistant.Deps{Store: b.db.Messenger(), Ledger: b.led, Consents: b.cons, BankURL: "https://bank.example", Now: b.clk.Now,
		Limits: b.guard, Rails: app.ChatRails{S: rs}})
	held := func() ledger.Amount {
		a, err := b.db.Ledger().Account(ctx, b.checking.ID)
		if err != nil {
			t.Fatal(err)
		}
		return a.Held
	}

	r := b.say("pay lee 20")
	has(t, r, "Pay lee 20.00 USD at another bank from", "Nothing moves until you confirm")
	if held() != 0 {
		t.Fatal("money held before the confirmation")
	}
	p := confirmPayload(t, r)
	has(t, b.sayAs(b.key, "Confirm payment", p), "Done: your payment to lee at another bank is scheduled")
	has(t, b.sayAs(b.key, "Confirm payment", p), "already done (reference ACH-")
	if got := held(); got != 20_00 {
		t.Fatalf("held %d after two confirmations, want 20.00 once", got)
	}
	// The new payee's limit: 1,000.00 a day while Ann is new.
	has(t, b.say("pay ann 1000.01"), "This payee is new")
	has(t, b.sayAs(b.key, "Confirm payment", confirmPayload(t, b.say("pay ann 30"))), "Done: your payment to ann at another bank is scheduled")

	has(t, b.say("status of my payment"), "To Lee Park: scheduled", "To Ann Short: scheduled")
	for range 2 { // the file leaves and settles; Ann's bank returns hers
		if err := rs.Cycle(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	has(t, b.say("where is my payment?"), "To Lee Park: arrived: the money reached the other bank",
		"To Ann Short: returned: the money is back in your account (the other account did not have enough money)")
	if got := held(); got != 0 {
		t.Errorf("held %d after settlement and return, want 0", got)
	}
}

// TestAssistantCollectsFromAnotherBank: "collect 40 from my chase" brings
// money in from the customer's own account at another bank, through the
// wiring's ChatRails over the real rails and railsim: refused in words for
// an account the bank has not verified and past the new payee's limit,
// otherwise a confirmation carrying the authorisation's words, booked once
// however often it is confirmed, with the words recorded; the money
// arrives when the file settles.
func TestAssistantCollectsFromAnotherBank(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	ctx := context.Background()
	sim := httptest.NewServer(railsim.New(railsim.Options{}).Handler())
	t.Cleanup(sim.Close)
	tr := &railsim.Client{Base: sim.URL, Routing: "021000089"}
	rs := rails.New(b.db.Rails(), b.led, rails.Options{Origin: rails.Origin{Routing: "021000089"}, Screener: rails.MustSample(), Now: b.clk.Now})
	for _, p := range []rails.Payee{{Name: "Ada Chase", Nickname: "chase", Number: "123456789"}, {Name: "Ada Wells", Nickname: "wells", Number: "223456789"},
		{Name: "Ada Short", Nickname: "short", Number: "1111111111"}} {
		p.Customer, p.Routing = b.customer, "231380104"
		got, err := rs.AddPayee(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if p.Nickname == "wells" {
			continue
		}
		if err := rs.Store().UpdatePayee(ctx, got.ID, rails.PayeeVerified, "", "", "", ""); err != nil {
			t.Fatal(err)
		}
	}
	b.a = assistant.New(assistant.Deps{Store: b.db.Messenger(), Ledger: b.led, Consents: b.cons, BankURL: "https://bank.example", Now: b.clk.Now,
		Limits: b.guard, Rails: app.ChatRails{S: rs}})
	debits := func() []rails.Payment {
		t.Helper()
		ps, err := rs.Store().Payments(ctx, rails.PaymentQuery{Customer: b.customer, Kinds: []rails.Kind{rails.KindDebit}})
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}

	has(t, b.say("collect 40 from wells"), "a WEB debit needs an account verified first", "Nothing was collected")
	has(t, b.say("collect 1000.01 from chase"), "This payee is new")
	has(t, b.say("collect 40 from nobody"), "I don't know one account at another bank called")
	if ps := debits(); len(ps) != 0 {
		t.Fatalf("collections before any confirmation: %+v", ps)
	}
	r := b.say("please collect 40 from my chase account")
	has(t, r, "Collect 40.00 USD from chase?", "you authorise the bank to debit 40.00 USD once from your account chase at another bank",
		"You can cancel this by contacting the bank", "Nothing moves until you confirm")
	p := confirmPayload(t, r)
	has(t, b.sayAs(b.key, "I authorise it", p), "Done: we ask the other bank for the money from chase")
	has(t, b.sayAs(b.key, "I authorise it", p), "Nothing was collected twice")
	ps := debits()
	if len(ps) != 1 || ps[0].Amount != 40_00 || ps[0].From != b.checking.ID || ps[0].SEC != rails.SECWEB ||
		!strings.Contains(ps[0].Authorization, "you authorise the bank to debit 40.00 USD") || !strings.Contains(ps[0].Authorization, "chat:") {
		t.Fatalf("the collection: %+v", ps)
	}
	// "Status of my payment" lists collections beside payments out.
	has(t, b.say("status of my payment"), "From Ada Chase: scheduled: we ask the other bank for the money with the next file.")
	has(t, b.sayAs(b.key, "I authorise it", confirmPayload(t, b.say("collect 10 from short"))), "Done: we ask the other bank for the money from short")
	before, _ := b.db.Ledger().Account(ctx, b.checking.ID)
	for range 2 { // the file leaves and settles; Ada's other bank returns the second
		if err := rs.Cycle(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	if a, _ := b.db.Ledger().Account(ctx, b.checking.ID); a.Balance != before.Balance+40_00 {
		t.Fatalf("balance %d after the file settled, want %d", a.Balance, before.Balance+40_00)
	}
	has(t, b.say("where is my payment?"), "From Ada Chase: arrived: the money is in your account.",
		"From Ada Short: returned: the other bank sent the collection back (the other account did not have enough money)")
	// Spanish: the same flow's words, and the same list.
	has(t, b.say("cobra 5 de chase"), "¿Cobrar 5.00 USD de chase?", "autorizas al banco a debitar 5.00 USD")
	has(t, b.say("estado de mis pagos"), "De Ada Chase: llegó: el dinero está en tu cuenta.",
		"De Ada Short: devuelto: el otro banco devolvió el cobro (la otra cuenta no tenía suficiente dinero)")
}
