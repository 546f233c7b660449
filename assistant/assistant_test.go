package assistant_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bank is one customer (checking with 500.00, savings, a card) with payees
// Sam (at this bank) and "far" (at another bank), linked to a chat under a
// consent for the messenger partner.
type bank struct {
	t        *testing.T
	clk      *clock
	db       *sqlite.DB
	led      *ledger.Service
	cons     *consent.Service
	a        *assistant.Assistant
	customer bankbridge.CustomerID
	checking ledger.Account
	savings  ledger.Account
	sam      ledger.Account
	card     ledger.Card
	key      assistant.Key
	grant    consent.Grant
	guard    *limits.Guard
}

func newBank(t *testing.T) *bank {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := &clock{t: now}
	b := &bank{t: t, clk: clk, db: db, key: assistant.Key{Platform: "messenger", User: "psid-1"},
		guard: limits.NewGuard(db.Limits(), limits.Policy{}, clk.Now)}
	b.led = ledger.New(db.Ledger(), ledger.Options{Now: clk.Now})
	t.Cleanup(b.led.Close)
	ids := identity.New(db.Identity(), identity.Options{Now: clk.Now})
	b.cons = consent.New(db.Consent(), consent.Options{Now: clk.Now, Accounts: db.Ledger()})
	c, err := ids.RegisterCustomer(ctx, identity.Customer{Name: "Ada Lovelace", Email: "ada@example.com", BirthYear: 1985}, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	other, err := ids.RegisterCustomer(ctx, identity.Customer{Name: "Sam Smith", Email: "sam@example.com", BirthYear: 1990}, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	b.customer = c.ID
	open := func(cust bankbridge.CustomerID, kind ledger.AccountKind, name, number string) ledger.Account {
		a, err := db.Ledger().CreateAccount(ctx, ledger.Account{Customer: cust, Kind: kind, Name: name, Currency: "USD",
			Number: ledger.AccountNumber(number), Routing: "011000015", Unbounded: kind == ledger.Internal})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	settle := open(0, ledger.Internal, "Settlement", "9000000001")
	b.checking = open(c.ID, ledger.Checking, "Everyday checking", "1000004821")
	b.savings = open(c.ID, ledger.Savings, "Savings", "1000005555")
	b.sam = open(other.ID, ledger.Checking, "Sam's checking", "1000007777")
	if _, _, err := b.led.Transfer(ctx, ledger.Move("seed", "s1", settle.ID, b.checking.ID, 50000, "USD", "Salary")); err != nil {
		t.Fatal(err)
	}
	m, err := db.Ledger().CreateMerchant(ctx, ledger.Merchant{Name: "Harbor Coffee Co.", MCC: "5814", Category: "coffee", City: "Springfield", Country: "US"})
	if err != nil {
		t.Fatal(err)
	}
	for i, amt := range []ledger.Amount{450, 520} {
		r := ledger.Move("seed", "c"+itoa(int64(i)), b.checking.ID, settle.ID, amt, "USD", "Harbor Coffee Co.")
		r.Merchant, r.Category = m.ID, "coffee"
		if _, _, err := b.led.Transfer(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	b.card, err = db.Ledger().CreateCard(ctx, ledger.Card{Account: b.checking.ID, Customer: c.ID, Last4: "4242", Network: "visa", Status: ledger.CardActive})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []ledger.Payee{{Customer: c.ID, Name: "Sam Smith", Nickname: "Sam", Account: b.sam.ID},
		{Customer: c.ID, Name: "Far Away", Nickname: "far", Routing: "021000021", Number: "12345678"}} {
		if _, err := db.Ledger().CreatePayee(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.cons.RegisterPartner(ctx, consent.Partner{ID: "messenger", LegalName: "Messenger Platform Inc", LEI: "5493001KJTIIGC8Y1R12",
		Homepage: "https://messenger.example", SecurityContact: "security@messenger.example", RedirectURIs: []string{"https://messenger.example/link"},
		JWKS:        json.RawMessage(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`),
		Purposes:    map[consent.Cluster]string{consent.AccountBasic: "name accounts in chat", consent.Balances: "balances in chat", consent.Transactions: "activity in chat", consent.Transfers: "payments from chat"},
		Attestation: consent.Attestation{NoSecondaryUse: true, Signatory: "Jo"}}, "test"); err != nil {
		t.Fatal(err)
	}
	cl := []consent.Cluster{consent.AccountBasic, consent.Balances, consent.Transactions, consent.Transfers}
	b.grant, err = b.cons.NewGrant(ctx, consent.GrantRequest{Customer: c.ID, Partner: "messenger", DurationDays: 30,
		Resources: []consent.Resource{{Account: b.checking.ID, Clusters: cl}, {Account: b.savings.ID, Clusters: []consent.Cluster{consent.AccountBasic, consent.Balances}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Messenger().SaveLink(ctx, assistant.Link{Key: b.key, Customer: c.ID, Grant: b.grant.ID, Linked: now}); err != nil {
		t.Fatal(err)
	}
	b.a = assistant.New(assistant.Deps{Store: db.Messenger(), Ledger: b.led, Consents: b.cons, BankURL: "https://bank.example", Now: clk.Now,
		Limits: b.guard})
	return b
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// say sends text from the linked user and returns the result.
func (b *bank) say(text string) assistant.Result {
	b.t.Helper()
	return b.sayAs(b.key, text, "")
}

func (b *bank) sayAs(k assistant.Key, text, payload string) assistant.Result {
	b.t.Helper()
	r, err := b.a.Handle(context.Background(), assistant.Inbound{Key: k, Text: text, Payload: payload})
	if err != nil {
		b.t.Fatalf("Handle(%q): %v", text, err)
	}
	b.clk.Add(time.Second)
	return r
}

func (b *bank) privacy(m assistant.PrivacyMode) {
	b.t.Helper()
	if err := b.db.Messenger().SaveSettings(context.Background(), assistant.Settings{Customer: b.customer, Privacy: m, Alerts: true, Updated: now}); err != nil {
		b.t.Fatal(err)
	}
}

func (b *bank) balance(id ledger.AccountID) ledger.Amount {
	b.t.Helper()
	a, err := b.db.Ledger().Account(context.Background(), id)
	if err != nil {
		b.t.Fatal(err)
	}
	return a.Balance
}

func text(r assistant.Result) string {
	var s []string
	for _, rep := range r.Replies {
		s = append(s, rep.Text)
	}
	return strings.Join(s, "\n")
}

func has(t *testing.T, r assistant.Result, want ...string) {
	t.Helper()
	got := text(r)
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("reply %q lacks %q", got, w)
		}
	}
}

func lacks(t *testing.T, r assistant.Result, bad ...string) {
	t.Helper()
	got := text(r)
	for _, w := range bad {
		if strings.Contains(got, w) {
			t.Errorf("reply %q must not contain %q", got, w)
		}
	}
}

func disclosed(r assistant.Result) bool {
	for _, rep := range r.Replies {
		if rep.Disclosure != nil {
			return true
		}
	}
	return false
}

func confirmPayload(t *testing.T, r assistant.Result) string {
	t.Helper()
	for _, rep := range r.Replies {
		for _, c := range rep.Choices {
			if strings.HasPrefix(c.Payload, "CONFIRM:") {
				return c.Payload
			}
		}
	}
	t.Fatalf("no confirmation choice in %q", text(r))
	return ""
}

func TestAssistantSaysItIsAutomated(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	has(t, b.say("hi"), assistant.Automated)
	lacks(t, b.say("help"), assistant.Automated)
	b.clk.Add(13 * time.Hour)
	has(t, b.say("help"), assistant.Automated)
	has(t, b.say("talk to a person"), "person at the bank")
	if r := b.say("my card is weird"); len(r.Replies) != 0 {
		t.Errorf("the assistant answered during a hand-over: %q", text(r))
	}
	back, err := b.a.HandBack(context.Background(), b.key, "staff:1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(back.Text, "automated assistant") {
		t.Errorf("hand-back %q does not say it is automated", back.Text)
	}
	has(t, b.say("balance"), "ready")
}

func TestAssistantPrivacyModes(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	r := b.say("balance")
	has(t, r, "ready", "bank's own page")
	lacks(t, r, "491.30", "4821")
	if disclosed(r) {
		t.Error("a minimal reply was marked as a disclosure")
	}
	if r.Replies[0].Buttons[0].URL != "https://bank.example/accounts" {
		t.Errorf("minimal reply links to %q", r.Replies[0].Buttons[0].URL)
	}
	b.say("privacy full")
	r = b.say("balance")
	has(t, r, "Everyday checking ••4821: 490.30 USD", "Savings ••5555: 0.00 USD")
	if !disclosed(r) {
		t.Fatal("a full balance reply must carry a disclosure")
	}
	d := r.Replies[0].Disclosure
	if d.Customer != b.customer || d.Grant != b.grant.ID || len(d.Accounts) != 2 || d.What != "balance" {
		t.Errorf("disclosure %+v", d)
	}
	has(t, b.say("savings balance"), "Savings ••5555")
	lacks(t, b.say("savings balance"), "Everyday")
	has(t, b.say("how much did I spend on coffee this month"), "You spent 9.70 USD on coffee this month (2 payments)")
	has(t, b.say("recent transactions"), "Harbor Coffee Co.", "-5.20 USD")
	b.say("privacy off")
	r = b.say("balance")
	has(t, r, "keeps account details out")
	lacks(t, r, "USD")
}

func TestAssistantPayConfirmOnce(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	before := b.balance(b.sam.ID)
	r := b.say("pay Sam 20")
	has(t, r, "Pay Sam 20.00 USD", "confirm")
	if b.balance(b.sam.ID) != before {
		t.Fatal("money moved before the confirmation")
	}
	p := confirmPayload(t, r)
	has(t, b.sayAs(b.key, "Confirm payment", p), "payment to Sam is booked")
	if got := b.balance(b.sam.ID) - before; got != 2000 {
		t.Fatalf("Sam received %d, want 2000", got)
	}
	// The same confirmation again (a redelivered tap, a second "yes").
	has(t, b.sayAs(b.key, "Confirm payment", p), "Nothing was paid")
	has(t, b.say("yes"), "already done", "Nothing was paid twice")
	if got := b.balance(b.sam.ID) - before; got != 2000 {
		t.Fatalf("after repeated confirmations Sam has received %d, want 2000", got)
	}
}

func TestAssistantPayConcurrentConfirmationsBookOnce(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	before := b.balance(b.sam.ID)
	p := confirmPayload(t, b.say("send $20.50 to sam"))
	// Two instances each holding the same pending request: both confirm.
	a2 := assistant.New(assistant.Deps{Store: b.db.Messenger(), Ledger: b.led, Consents: b.cons, BankURL: "https://bank.example", Now: b.clk.Now, Limits: b.guard})
	var wg sync.WaitGroup
	for _, a := range []*assistant.Assistant{b.a, a2} {
		wg.Go(func() {
			if _, err := a.Handle(context.Background(), assistant.Inbound{Key: b.key, Text: "Confirm", Payload: p}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := b.balance(b.sam.ID) - before; got != 2050 {
		t.Fatalf("Sam received %d, want 2050 exactly once", got)
	}
}

func TestAssistantPayRefusals(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	before := b.balance(b.checking.ID)
	tests := []struct{ say, want string }{
		{"pay sam -5", "more than zero"},
		{"pay sam 1e9", "could not read"},
		{"pay sam 20,000.5.5", "could not read"},
		{"pay sam 20 30", "more than one amount"},
		{"pay nobody 20", "don't know a payee"},
		{"pay far 20", "another bank"},
		{"pay sam 1000.01", "payee is new"}, // never paid: cooling-off (a step-up would not lift it)
		{"pay sam", "How much"},
		{"pay 20", "Who should I pay"},
		{"yes", "nothing waiting"},
		{"what is the weather", "didn't understand"},
	}
	for _, tt := range tests {
		r := b.say(tt.say)
		has(t, r, tt.want)
		for _, rep := range r.Replies {
			for _, c := range rep.Choices {
				if strings.HasPrefix(c.Payload, "CONFIRM:") {
					t.Errorf("%q offered a confirmation", tt.say)
				}
			}
		}
	}
	if b.balance(b.checking.ID) != before {
		t.Error("money moved")
	}
	// Insufficient funds: asked, confirmed, refused, nothing moved.
	p := confirmPayload(t, b.say("pay sam 900"))
	has(t, b.sayAs(b.key, "Confirm", p), "Nothing was paid")
	// An expired confirmation.
	p = confirmPayload(t, b.say("pay sam 5"))
	b.clk.Add(6 * time.Minute)
	has(t, b.sayAs(b.key, "Confirm", p), "expired")
	// Cancel.
	p = confirmPayload(t, b.say("pay sam 5"))
	has(t, b.say("no"), "Cancelled")
	has(t, b.sayAs(b.key, "Confirm", p), "Nothing was paid")
	if b.balance(b.checking.ID) != before {
		t.Error("money moved")
	}
}

func TestAssistantCardsAlertsHuman(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	ctx := context.Background()
	r := b.say("freeze my card")
	has(t, r, "Freeze your card?")
	cards, _ := b.db.Ledger().CustomerCards(ctx, b.customer)
	if cards[0].Status != ledger.CardActive {
		t.Fatal("card frozen before the confirmation")
	}
	has(t, b.sayAs(b.key, "Freeze", confirmPayload(t, r)), "now frozen")
	cards, _ = b.db.Ledger().CustomerCards(ctx, b.customer)
	if cards[0].Status != ledger.CardFrozen {
		t.Fatal("card not frozen")
	}
	r = b.say("unfreeze card")
	has(t, r, "Unfreeze")
	if cards, _ := b.db.Ledger().CustomerCards(ctx, b.customer); cards[0].Status != ledger.CardFrozen {
		t.Fatal("unfrozen before the confirmation")
	}
	has(t, b.sayAs(b.key, "Unfreeze", confirmPayload(t, r)), "unfrozen")
	if cards, _ := b.db.Ledger().CustomerCards(ctx, b.customer); cards[0].Status != ledger.CardActive {
		t.Fatal("card not active after confirming")
	}
	has(t, b.say("turn off alerts"), "Alerts are off")
	if s, _ := b.db.Messenger().Settings(ctx, b.customer); s.Alerts {
		t.Error("alerts still on")
	}
	r = b.say("talk to a person")
	if !r.HandedOver {
		t.Error("not handed over")
	}
	convs, _ := b.db.Messenger().HandedOver(ctx, 10)
	if len(convs) != 1 || convs[0].Key != b.key {
		t.Errorf("inbox %v", convs)
	}
}

func TestAssistantUnlinkedDisclosesNothing(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	b.privacy(assistant.PrivacyFull)
	stranger := assistant.Key{Platform: "messenger", User: "psid-2"}
	for _, s := range []string{"balance", "pay sam 20", "recent transactions", "coffee this week", "freeze my card"} {
		r := b.sayAs(stranger, s, "")
		has(t, r, "link")
		lacks(t, r, "USD", "4821")
		if disclosed(r) {
			t.Errorf("%q disclosed to an unlinked user", s)
		}
	}
	// Unlink from the chat: the consent is revoked and nothing more is shown.
	r := b.say("unlink")
	if !r.Unlinked {
		t.Fatal("not unlinked")
	}
	g, _ := b.cons.Grant(context.Background(), b.grant.ID)
	if g.Status != consent.Revoked {
		t.Errorf("consent %s after unlink", g.Status)
	}
	r = b.say("balance")
	lacks(t, r, "USD")
	has(t, r, "link")
	// A consent revoked elsewhere (Connected apps) ends the link too.
	b2 := newBank(t)
	b2.privacy(assistant.PrivacyFull)
	if _, err := b2.cons.RevokeForCustomer(context.Background(), b2.customer, b2.grant.ID); err != nil {
		t.Fatal(err)
	}
	lacks(t, b2.say("balance"), "USD")
	if _, err := b2.db.Messenger().Link(context.Background(), b2.key); err == nil {
		t.Error("the link of a revoked consent is still there")
	}
}
