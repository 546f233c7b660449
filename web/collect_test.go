package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// collectReview posts the collection form and returns the confirmation page.
func (br *browser) collectReview(id string, into ledger.AccountID, amount string) page {
	br.b.t.Helper()
	return br.post("/payees/"+id+"/collect", url.Values{"csrf": {br.csrf("/payees/" + id + "/collect")}, "from": {fmt.Sprint(into)},
		"amount": {amount}, "speed": {"standard"}})
}

// collect walks the collection form and confirms it, authorised.
func (br *browser) collect(id string, into ledger.AccountID, amount string) page {
	br.b.t.Helper()
	rev := br.collectReview(id, into, amount)
	if rev.status != http.StatusOK {
		return rev
	}
	f := br.confirmForm(rev)
	f.Set("authorize", "yes")
	return br.post("/payees/"+id+"/collect/confirm", f)
}

// verifyPayee verifies a payee through the page and the emulator (its
// prenote settles).
func verifyPayee(t *testing.T, b *bank, br *browser, id string) {
	t.Helper()
	if res := br.post("/payees/"+id+"/verify", url.Values{"csrf": {br.csrf("/payees")}}); res.status != http.StatusSeeOther {
		t.Fatalf("verify: %d\n%s", res.status, res.body)
	}
	if err := b.rails.Cycle(context.Background(), b.railsTr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(br.get("/payees").body, "/payees/"+id+"/collect") {
		t.Fatalf("payee %s verified, yet no Collect button:\n%s", id, br.get("/payees").body)
	}
}

// TestCollectFromTheWebApp: a customer pulls money from their own account
// at another bank: refused in words (and nothing recorded) for a payee not
// verified, past the new payee's limit, past the step-up without an
// authenticator, and without the authorisation ticked; then the
// authorisation's words on the confirmation, recorded with the payment, a
// double submit that collects once, the money in the account once the file
// settles, and a return explained in words. Both engines.
func TestCollectFromTheWebApp(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, pg bool) {
		b := newBank(t, bankOptions{postgres: pg})
		ctx := context.Background()
		ada := b.customer("Ada Lovelace", "ada@example.com")
		into := b.account(ada.ID, "Checking", ledger.Checking, 100_00)
		br := b.browser()
		br.login("", "ada@example.com")
		_, own := br.addPayee("Ada at Other Bank", "231380104", "123456789")
		none := func(why string) {
			t.Helper()
			ps, err := b.rails.Store().Payments(ctx, rails.PaymentQuery{Customer: ada.ID, Kinds: []rails.Kind{rails.KindDebit}})
			if err != nil || len(ps) != 0 {
				t.Fatalf("%s: collections recorded %+v, %v", why, ps, err)
			}
		}

		// Not verified: the form says so, and neither step records anything.
		if p := br.get("/payees/" + own + "/collect"); p.status != http.StatusOK || !strings.Contains(p.body, "Verify this account first") {
			t.Fatalf("the form of an unverified payee: %d\n%s", p.status, p.body)
		}
		if p := br.collectReview(own, into.ID, "20.00"); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Verify this account first") {
			t.Fatalf("review, unverified: %d\n%s", p.status, p.body)
		}
		forged := url.Values{"csrf": {br.csrf("/payees")}, "key": {"AAAAAAAAAAAAAAAAAAAAAA"}, "from": {fmt.Sprint(into.ID)},
			"amount": {"20.00"}, "speed": {"standard"}, "authorize": {"yes"}}
		if p := br.post("/payees/"+own+"/collect/confirm", forged); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Verify this account first") {
			t.Fatalf("confirm, unverified: %d\n%s", p.status, p.body)
		}
		none("unverified")

		verifyPayee(t, b, br, own)
		// The new payee's limit holds for money coming in as going out.
		if p := br.collect(own, into.ID, "1000.01"); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "This payee is new") {
			t.Fatalf("over the new-payee limit: %d\n%s", p.status, p.body)
		}
		none("over the limit")

		rev := br.collectReview(own, into.ID, "250.00")
		if rev.status != http.StatusOK || !strings.Contains(rev.body, "I authorise Test Bank to debit 250.00 USD once from my account ••••6789") ||
			!strings.Contains(rev.body, `name="authorize"`) {
			t.Fatalf("the confirmation with the authorisation: %d\n%s", rev.status, rev.body)
		}
		f := br.confirmForm(rev)
		if p := br.post("/payees/"+own+"/collect/confirm", f); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Tick the box") {
			t.Fatalf("confirm without the authorisation: %d\n%s", p.status, p.body)
		}
		none("not authorised")
		f.Set("authorize", "yes")
		res := br.post("/payees/"+own+"/collect/confirm", f)
		if res.status != http.StatusSeeOther || !strings.HasPrefix(res.loc, "/payments/ach/") {
			t.Fatalf("collect: %d\n%s", res.status, res.body)
		}
		if again := br.post("/payees/"+own+"/collect/confirm", f); again.status != http.StatusSeeOther || again.loc != res.loc {
			t.Fatalf("a double submit: %d to %q, want the same payment %q", again.status, again.loc, res.loc)
		}
		ps, err := b.rails.Store().Payments(ctx, rails.PaymentQuery{Customer: ada.ID, Kinds: []rails.Kind{rails.KindDebit}})
		if err != nil || len(ps) != 1 {
			t.Fatalf("collections: %+v, %v", ps, err)
		}
		if p := ps[0]; p.SEC != rails.SECWEB || p.Amount != 250_00 || p.From != into.ID ||
			!strings.Contains(p.Authorization, "WEB, agreed on web at") || !strings.Contains(p.Authorization, "I authorise Test Bank to debit 250.00 USD") {
			t.Fatalf("the collection recorded: %+v", p)
		}
		if p := br.get(res.loc); !strings.Contains(p.body, "Collection from Ada at Other Bank") || !strings.Contains(p.body, "Scheduled: we ask the other bank") {
			t.Fatalf("the status page:\n%s", p.body)
		}
		if got := b.get(into.ID).Balance; got != 100_00 {
			t.Fatalf("balance %d before the file settles, want 10000", got)
		}
		if err := b.rails.Cycle(ctx, b.railsTr); err != nil {
			t.Fatal(err)
		}
		if p := br.get(res.loc); !strings.Contains(p.body, "Arrived: the money is in your account") {
			t.Fatalf("settled:\n%s", p.body)
		}
		if got := b.get(into.ID).Balance; got != 350_00 {
			t.Fatalf("balance %d after settlement, want 35000", got)
		}

		// Past the cooling-off, above the step-up amount: a customer
		// without an authenticator is told so, as for a payment.
		b.clock.Add(25 * time.Hour)
		br.login("", "ada@example.com") // the session ended meanwhile
		if p := br.collect(own, into.ID, "1500.00"); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "authenticator") {
			t.Fatalf("above the step-up without an authenticator: %d\n%s", p.status, p.body)
		}

		// The other bank says the debit was never authorised (R10): the
		// page says it came back, and why.
		_, closed := br.addPayee("Ada Old Account", "231380104", "6666666666")
		verifyPayee(t, b, br, closed)
		b.clock.Add(25 * time.Hour)
		br.login("", "ada@example.com")
		ret := br.collect(closed, into.ID, "50.00")
		if ret.status != http.StatusSeeOther {
			t.Fatalf("second collection: %d\n%s", ret.status, ret.body)
		}
		for range 2 {
			if err := b.rails.Cycle(ctx, b.railsTr); err != nil {
				t.Fatal(err)
			}
		}
		if p := br.get(ret.loc); !strings.Contains(p.body, "Returned: the other bank sent the collection back") || !strings.Contains(p.body, "R10") {
			t.Fatalf("a returned collection's page:\n%s", p.body)
		}

		// Another customer sees none of it.
		b.customer("Eve Other", "eve@example.com")
		eve := b.browser()
		eve.login("", "eve@example.com")
		if p := eve.get(res.loc); p.status != http.StatusNotFound {
			t.Fatalf("another customer's collection: %d", p.status)
		}
		if p := eve.get("/payees/" + own + "/collect"); p.status != http.StatusNotFound {
			t.Fatalf("another customer's payee: %d", p.status)
		}
	})
}

// TestAskAnInstantPaymentBack: from a settled instant payment's page the
// customer asks for it back with a reason; the page shows the request and
// the other bank's answer (money back, or a refusal in words), in English
// and Spanish. Asking twice, asking back an ACH payment or someone else's
// payment, or without a reason, is answered in words and changes nothing.
func TestAskAnInstantPaymentBack(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	ctx := context.Background()
	ada := b.customer("Ada Lovelace", "ada@example.com")
	from := b.account(ada.ID, "Checking", ledger.Checking, 1_000_00)
	br := b.browser()
	br.login("", "ada@example.com")
	_, sam := br.addPayee("Sam Lee", "231380104", "123456789")
	_, rita := br.addPayee("Rita Refuses", "231380104", "7777777777")

	res := br.paySpeed(sam, from.ID, "40.00", "instant")
	if res.status != http.StatusSeeOther {
		t.Fatalf("instant: %d\n%s", res.status, res.body)
	}
	status := res.loc
	recall := status + "/recall"
	if p := br.get(status); !strings.Contains(p.body, `href="`+recall+`"`) {
		t.Fatalf("a settled instant payment offers no way to ask it back:\n%s", p.body)
	}
	if p := br.get(recall); p.status != http.StatusOK || !strings.Contains(p.body, "Why do you want it back?") {
		t.Fatalf("the form: %d\n%s", p.status, p.body)
	}
	csrf := br.csrf(recall)
	if p := br.post(recall, url.Values{"csrf": {csrf}, "reason": {"AM09"}}); p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Choose why") {
		t.Fatalf("a reason customers do not give: %d\n%s", p.status, p.body)
	}
	// Someone else asks: not found, and nothing changes.
	b.customer("Eve Other", "eve@example.com")
	eve := b.browser()
	eve.login("", "eve@example.com")
	if p := eve.post(recall, url.Values{"csrf": {eve.csrf("/payees")}, "reason": {"FRAD"}}); p.status != http.StatusNotFound {
		t.Fatalf("another customer's payment: %d", p.status)
	}
	pay := func(loc string) rails.Payment {
		t.Helper()
		var n int64
		fmt.Sscanf(strings.TrimPrefix(loc, "/payments/ach/"), "%d", &n)
		p, err := b.rails.Store().Payment(ctx, rails.PaymentID(n))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := pay(status); p.Recall != "" {
		t.Fatalf("asked back before Ada asked: %+v", p)
	}

	ask := br.post(recall, url.Values{"csrf": {csrf}, "reason": {"DUPL"}})
	if ask.status != http.StatusSeeOther || ask.loc != status+"?done=recall" {
		t.Fatalf("ask: %d to %q\n%s", ask.status, ask.loc, ask.body)
	}
	if p := br.get(ask.loc); !strings.Contains(p.body, "We asked the other bank for the money back") ||
		!strings.Contains(p.body, "the other bank agreed to return it; the money follows") || strings.Contains(p.body, `href="`+recall+`"`) {
		t.Fatalf("after asking:\n%s", p.body)
	}
	// Twice: said in words; the request stays one.
	if p := br.post(recall, url.Values{"csrf": {csrf}, "reason": {"FRAD"}}); p.status != http.StatusConflict || !strings.Contains(p.body, "You already asked for this payment back") {
		t.Fatalf("asked twice: %d\n%s", p.status, p.body)
	}
	if p := pay(status); p.Recall != rails.RecallAccepted || !strings.HasPrefix(p.RecallNote, "the other bank agreed") {
		t.Fatalf("after the second ask: %+v", p)
	}
	// The money comes back (pacs.004 in the instant service's inbox).
	if err := b.rails.Cycle(ctx, b.railsTr); err != nil {
		t.Fatal(err)
	}
	if p := br.get(status); !strings.Contains(p.body, "Returned: the money is back in your account") || !strings.Contains(p.body, "and the other bank returned it") {
		t.Fatalf("returned:\n%s", p.body)
	}
	if a := b.get(from.ID); a.Balance != 1_000_00 {
		t.Fatalf("balance %d after the return, want 100000", a.Balance)
	}

	// The person paid refuses (camt.029 RJCR CUST): the reason in words,
	// in Spanish too.
	res = br.paySpeed(rita, from.ID, "30.00", "instant")
	if ask := br.post(res.loc+"/recall", url.Values{"csrf": {csrf}, "reason": {"CUST"}}); ask.status != http.StatusSeeOther {
		t.Fatalf("ask Rita's back: %d\n%s", ask.status, ask.body)
	}
	if p := br.get(res.loc); !strings.Contains(p.body, "The other bank did not return it: the person paid refused to give it back") {
		t.Fatalf("refused:\n%s", p.body)
	}
	br.get("/language?lang=es")
	if p := br.get(res.loc); !strings.Contains(p.body, "la persona a la que pagaste se negó a devolverlo") || !strings.Contains(p.body, "Devolución pedida") {
		t.Fatalf("refused, in Spanish:\n%s", p.body)
	}
	br.get("/language?lang=en")

	// An ACH payment is not asked back here.
	ach := br.payACH(sam, from.ID, "10.00")
	if p := br.post(ach.loc+"/recall", url.Values{"csrf": {csrf}, "reason": {"DUPL"}}); p.status != http.StatusConflict || !strings.Contains(p.body, "Only an instant payment") {
		t.Fatalf("an ACH payment asked back: %d\n%s", p.status, p.body)
	}
	if p := pay(ach.loc); p.Recall != "" {
		t.Fatalf("the ACH payment: %+v", p)
	}
}
