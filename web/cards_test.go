package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
)

var caseLoc = regexp.MustCompile(`^/cases/(\d+)\?done=`)

// cardPayment books a posted card payment from acct at a new merchant.
func (ab *alertsBank) cardPayment(acct ledger.AccountID, amt ledger.Amount, desc string) ledger.Transfer {
	ab.t.Helper()
	ctx := context.Background()
	m, err := ab.db.Ledger().CreateMerchant(ctx, ledger.Merchant{Name: desc, MCC: "5732", Category: "electronics", City: "Austin", Country: "US"})
	if err != nil {
		ab.t.Fatal(err)
	}
	ab.nextNum++
	req := ledger.Move("test", fmt.Sprintf("card%d", ab.nextNum), acct, ab.funding, amt, "USD", desc)
	req.Merchant = m.ID
	tr, _, err := ab.ledger.Transfer(ctx, req)
	if err != nil {
		ab.t.Fatal(err)
	}
	return tr
}

func (ab *alertsBank) checking(c bankbridge.CustomerID) ledger.Account {
	ab.t.Helper()
	as, err := ab.db.Ledger().CustomerAccounts(context.Background(), c)
	if err != nil || len(as) == 0 {
		ab.t.Fatalf("accounts of %d: %v", c, err)
	}
	return as[0]
}

// TestCards: the cards page lists the customer's cards; freezing and
// unfreezing go through a confirmation page; a lost card is frozen at once,
// opens a case the customer follows, and cannot be unfrozen from the web;
// another customer's card is a 404 and unchanged.
func TestCards(t *testing.T) {
	t.Parallel()
	ab := newAlertsBank(t)
	br := ab.browser()
	br.login("", "ada@example.com")
	p := br.get("/cards")
	if p.status != http.StatusOK || !strings.Contains(p.body, "4242") || strings.Contains(p.body, "1111") {
		t.Fatalf("cards page: status %d\n%s", p.status, p.body)
	}
	cards, _ := ab.db.Ledger().CustomerCards(context.Background(), ab.ada.ID)
	bobCards, _ := ab.db.Ledger().CustomerCards(context.Background(), ab.bob.ID)
	ada, bob := fmt.Sprint(cards[0].ID), fmt.Sprint(bobCards[0].ID)
	csrf := p.field(t, csrfRe)

	confirm := br.get("/cards/" + ada + "/freeze")
	if confirm.status != http.StatusOK || !strings.Contains(confirm.body, "Yes, freeze this card") {
		t.Fatalf("freeze confirmation: %d", confirm.status)
	}
	if got := ab.cardStatus(ab.ada.ID); got != ledger.CardActive {
		t.Fatalf("the card is %s before confirming", got)
	}
	if res := br.post("/cards/"+ada+"/freeze", url.Values{"csrf": {csrf}}); res.status != http.StatusSeeOther {
		t.Fatalf("freeze: %d", res.status)
	}
	if got := ab.cardStatus(ab.ada.ID); got != ledger.CardFrozen {
		t.Errorf("after freeze the card is %s", got)
	}
	if res := br.post("/cards/"+ada+"/unfreeze", url.Values{"csrf": {csrf}}); res.status != http.StatusSeeOther || ab.cardStatus(ab.ada.ID) != ledger.CardActive {
		t.Errorf("unfreeze: %d, card %s", res.status, ab.cardStatus(ab.ada.ID))
	}
	for _, path := range []string{"/cards/" + bob + "/freeze", "/cards/" + bob + "/report", "/cards/nope/freeze", "/cards/" + ada + "/explode"} {
		if res := br.post(path, url.Values{"csrf": {csrf}, "what": {"lost"}}); res.status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, res.status)
		}
	}
	if got := ab.cardStatus(ab.bob.ID); got != ledger.CardActive {
		t.Errorf("Bob's card is %s after Ada's attempts", got)
	}
	if res := br.post("/cards/"+ada+"/report", url.Values{"csrf": {csrf}}); res.status != http.StatusBadRequest || !strings.Contains(res.body, "lost or stolen") {
		t.Errorf("report without saying what: %d", res.status)
	}
	res := br.post("/cards/"+ada+"/report", url.Values{"csrf": {csrf}, "what": {"stolen"}})
	m := caseLoc.FindStringSubmatch(res.loc)
	if res.status != http.StatusSeeOther || m == nil {
		t.Fatalf("report: %d to %q", res.status, res.loc)
	}
	if got := ab.cardStatus(ab.ada.ID); got != ledger.CardFrozen {
		t.Errorf("a stolen card is %s", got)
	}
	again := br.post("/cards/"+ada+"/report", url.Values{"csrf": {csrf}, "what": {"stolen"}})
	if m2 := caseLoc.FindStringSubmatch(again.loc); m2 == nil || m2[1] != m[1] {
		t.Errorf("reporting twice opened another case: %q then %q", res.loc, again.loc)
	}
	if res := br.post("/cards/"+ada+"/unfreeze", url.Values{"csrf": {csrf}}); res.status != http.StatusConflict || ab.cardStatus(ab.ada.ID) != ledger.CardFrozen {
		t.Errorf("unfreezing a stolen card: %d, card %s", res.status, ab.cardStatus(ab.ada.ID))
	}
	if p := br.get("/cases/" + m[1]); p.status != http.StatusOK || !strings.Contains(p.body, "Stolen card case") {
		t.Errorf("case page: %d", p.status)
	}
	if p := br.get("/cases"); !strings.Contains(p.body, `data-case="`+m[1]+`"`) {
		t.Errorf("the case is not listed on /cases")
	}
	if res := br.post("/cases/"+m[1]+"/notes", url.Values{"csrf": {csrf}, "note": {"It was taken from my bag at the market."}}); res.status != http.StatusSeeOther {
		t.Errorf("customer note: %d", res.status)
	}
	if p := br.get("/cases/" + m[1]); !strings.Contains(p.body, "You: It was taken from my bag") {
		t.Errorf("the customer's note is not on the case page")
	}
	bobBr := ab.browser()
	bobBr.login("", "bob@example.com")
	if p := bobBr.get("/cases/" + m[1]); p.status != http.StatusNotFound {
		t.Errorf("Bob opens Ada's case: %d, want 404", p.status)
	}
	// In Spanish the list names the kind of case as a noun.
	es := ab.browser()
	es.get("/language?lang=es")
	es.login("", "ada@example.com")
	if p := es.get("/cases"); !strings.Contains(p.body, "Tarjeta robada") {
		t.Errorf("the Spanish list of cases does not say %q:\n%s", "Tarjeta robada", p.body)
	}
}

// TestDisputes: a customer disputes a card payment from their history; the
// case carries the network's reason code and the deadline; another
// customer's payment is a 404 and audited; a payment older than the
// network allows is refused in plain words; nothing opens twice.
func TestDisputes(t *testing.T) {
	t.Parallel()
	ab := newAlertsBank(t)
	acct := ab.checking(ab.ada.ID)
	old := ab.cardPayment(acct.ID, 5000, "Old Lamp Shop")
	ab.clock.Add(121 * 24 * time.Hour)
	tr := ab.cardPayment(acct.ID, 90000, "Volt Store")
	bobTr := ab.cardPayment(ab.checking(ab.bob.ID).ID, 1000, "Bob's Cafe")
	br := ab.browser()
	br.login("", "ada@example.com")
	hist := br.get(fmt.Sprintf("/accounts/%d", acct.ID))
	if !strings.Contains(hist.body, fmt.Sprintf(`href="/disputes/new?transfer=%d"`, tr.ID)) {
		t.Fatalf("the history offers no dispute for the card payment")
	}
	csrf := hist.field(t, csrfRe)
	form := br.get(fmt.Sprintf("/disputes/new?transfer=%d", tr.ID))
	if form.status != http.StatusOK || !strings.Contains(form.body, "I paid but never got what I paid for") {
		t.Fatalf("dispute form: %d", form.status)
	}
	if res := br.post("/disputes", url.Values{"csrf": {csrf}, "transfer": {fmt.Sprint(tr.ID)}}); res.status != http.StatusBadRequest {
		t.Errorf("dispute without a reason: %d", res.status)
	}
	res := br.post("/disputes", url.Values{"csrf": {csrf}, "transfer": {fmt.Sprint(tr.ID)}, "reason": {"not_received"}, "words": {"Ordered in March, never came."}})
	m := caseLoc.FindStringSubmatch(res.loc)
	if res.status != http.StatusSeeOther || m == nil {
		t.Fatalf("dispute: %d to %q\n%s", res.status, res.loc, res.body)
	}
	p := br.get("/cases/" + m[1])
	due := tr.Posted.Add(alerts.DisputeWindow).UTC().Format("2 Jan 2006")
	for _, want := range []string{"visa 13.1", due, "Ordered in March, never came.", "Volt Store"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the dispute's page lacks %q", want)
		}
	}
	again := br.post("/disputes", url.Values{"csrf": {csrf}, "transfer": {fmt.Sprint(tr.ID)}, "reason": {"not_received"}})
	if m2 := caseLoc.FindStringSubmatch(again.loc); m2 == nil || m2[1] != m[1] {
		t.Errorf("disputing twice: %q then %q", res.loc, again.loc)
	}
	late := br.post("/disputes", url.Values{"csrf": {csrf}, "transfer": {fmt.Sprint(old.ID)}, "reason": {"not_received"}})
	if late.status != http.StatusConflict || !strings.Contains(late.body, "older than the card network allows") {
		t.Errorf("a 121-day-old payment: %d", late.status)
	}
	for _, res := range []page{br.get(fmt.Sprintf("/disputes/new?transfer=%d", bobTr.ID)),
		br.post("/disputes", url.Values{"csrf": {csrf}, "transfer": {fmt.Sprint(bobTr.ID)}, "reason": {"not_me"}})} {
		if res.status != http.StatusNotFound || strings.Contains(res.body, "Bob's Cafe") {
			t.Errorf("Bob's payment: %d, want 404 without its details", res.status)
		}
	}
	if ks, _ := ab.svc.CustomerCases(context.Background(), ab.ada.ID); len(ks) != 1 {
		t.Errorf("Ada has %d cases, want the one dispute", len(ks))
	}
}
