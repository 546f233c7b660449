package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/web"
)

// alertsBank is a bank with the alerts service over the same SQLite
// database: Ada and Bob each have a checking account, a card and an alert
// asking "was this you?".
type alertsBank struct {
	*bank
	svc      *alerts.Service
	ada, bob identity.Customer
	adaAlert alerts.AlertID
	bobAlert alerts.AlertID
}

// newAlertsBank is a bank with alerts for Ada and Bob; o, when given, is
// newBank's options.
func newAlertsBank(t *testing.T, o ...bankOptions) *alertsBank {
	t.Helper()
	b := newBank(t, append(o, bankOptions{})[0])
	ab := &alertsBank{bank: b, svc: alerts.New(b.db.Alerts(), b.db.Ledger(), alerts.Options{Now: b.clock.Now})}
	b.handler = web.New(web.Deps{Auth: b.ids, Ledger: b.ledger, Logger: slog.New(slog.DiscardHandler), Now: b.clock.Now,
		BankName: "Test Bank", Alerts: ab.svc})
	ctx := context.Background()
	ab.ada, ab.bob = b.customer("Ada", "ada@example.com"), b.customer("Bob", "bob@example.com")
	var as []alerts.Alert
	for i, c := range []identity.Customer{ab.ada, ab.bob} {
		acct := b.account(c.ID, "Checking", ledger.Checking, 100000)
		if _, err := b.db.Ledger().CreateCard(ctx, ledger.Card{Account: acct.ID, Customer: c.ID, Last4: []string{"4242", "1111"}[i],
			Network: "visa", Status: ledger.CardActive}); err != nil {
			t.Fatal(err)
		}
		id := alerts.NewAlertID(ledger.EventSeq(i+1), alerts.Suspicious, c.ID)
		as = append(as, alerts.Alert{ID: id, Seq: ledger.EventSeq(i + 1), Customer: c.ID, Rule: alerts.Suspicious, Account: acct.ID,
			Amount: 98000, Currency: "USD", Title: "Was this you?", Body: "We noticed a first payment in electronics: 980.00 USD at Volt Store. Was this you?",
			Ask: true, Created: b.clock.Now()})
	}
	ab.adaAlert, ab.bobAlert = as[0].ID, as[1].ID
	if err := b.db.Alerts().Commit(ctx, "test", 0, alerts.Batch{Alerts: as}, b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	return ab
}

func (ab *alertsBank) cardStatus(c bankbridge.CustomerID) ledger.CardStatus {
	ab.t.Helper()
	cards, err := ab.db.Ledger().CustomerCards(context.Background(), c)
	if err != nil || len(cards) != 1 {
		ab.t.Fatalf("cards of %d: %v, %v", c, cards, err)
	}
	return cards[0].Status
}

func TestNotifications(t *testing.T) {
	t.Parallel()
	ab := newAlertsBank(t)
	br := ab.browser()
	br.login("", "ada@example.com")

	p := br.get("/notifications")
	if p.status != http.StatusOK || !strings.Contains(p.body, "Volt Store") || !strings.Contains(p.body, `action="/notifications/`+string(ab.adaAlert)+`/answer"`) {
		t.Fatalf("notification centre: status %d\n%s", p.status, p.body)
	}
	if strings.Contains(p.body, string(ab.bobAlert)) {
		t.Errorf("Ada's notification centre shows Bob's alert")
	}
	if !strings.Contains(p.body, `href="/notifications" aria-current="page">Alerts</a>`) {
		t.Errorf("the nav lacks Alerts as the current page")
	}
	csrf := p.field(t, csrfRe)

	t.Run("AnotherCustomersAlertIsNotFound", func(t *testing.T) {
		res := br.post("/notifications/"+string(ab.bobAlert)+"/answer", url.Values{"csrf": {csrf}, "answer": {"no"}})
		if res.status != http.StatusNotFound {
			t.Errorf("answering Bob's alert as Ada: status %d, want 404", res.status)
		}
		if got := ab.cardStatus(ab.bob.ID); got != ledger.CardActive {
			t.Errorf("Bob's card is %s, want active", got)
		}
	})
	t.Run("CSRFRequired", func(t *testing.T) {
		for _, form := range []url.Values{{"answer": {"no"}}, {"answer": {"no"}, "csrf": {"forged"}}} {
			if res := br.post("/notifications/"+string(ab.adaAlert)+"/answer", form); res.status != http.StatusForbidden {
				t.Errorf("answer with csrf %q: status %d, want 403", form.Get("csrf"), res.status)
			}
		}
		if res := br.post("/notifications/read", url.Values{}); res.status != http.StatusForbidden {
			t.Errorf("mark read without csrf: status %d, want 403", res.status)
		}
		if got := ab.cardStatus(ab.ada.ID); got != ledger.CardActive {
			t.Errorf("Ada's card is %s after refused requests, want active", got)
		}
	})
	t.Run("AnswerNoFreezesTheCard", func(t *testing.T) {
		res := br.post("/notifications/"+string(ab.adaAlert)+"/answer", url.Values{"csrf": {csrf}, "answer": {"no"}})
		if res.status != http.StatusOK {
			t.Fatalf("answer no: status %d\n%s", res.status, res.body)
		}
		for _, want := range []string{"What happens next", "We froze your card ••••4242", "will contact you within one business day", "You answered: no"} {
			if !strings.Contains(res.body, want) {
				t.Errorf("the page after No lacks %q", want)
			}
		}
		if got := ab.cardStatus(ab.ada.ID); got != ledger.CardFrozen {
			t.Errorf("Ada's card is %s after No, want frozen", got)
		}
		// Changing the answer is refused, and the card stays frozen.
		res = br.post("/notifications/"+string(ab.adaAlert)+"/answer", url.Values{"csrf": {csrf}, "answer": {"yes"}})
		if res.status != http.StatusConflict || !strings.Contains(res.body, "already answered") {
			t.Errorf("changing the answer: status %d", res.status)
		}
		if got := ab.cardStatus(ab.ada.ID); got != ledger.CardFrozen {
			t.Errorf("Ada's card is %s after a refused change, want frozen", got)
		}
	})
	t.Run("MarkRead", func(t *testing.T) {
		res := br.post("/notifications/read", url.Values{"csrf": {csrf}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("mark read: status %d", res.status)
		}
		if _, unread, err := ab.svc.Notifications(context.Background(), ab.ada.ID, 10); err != nil || unread != 0 {
			t.Errorf("unread after mark read = %d, %v; want 0", unread, err)
		}
	})
	t.Run("Settings", func(t *testing.T) {
		res := br.post("/notifications/settings", url.Values{"csrf": {csrf}, "large_debit": {"1,250.00"}, "low_balance": {""},
			"deposits": {"on"}, "privacy": {"full"}, "email": {"ada@example.com"}})
		if res.status != http.StatusSeeOther {
			t.Fatalf("save settings: status %d\n%s", res.status, res.body)
		}
		got, err := ab.svc.Settings(context.Background(), ab.ada.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := alerts.Settings{Customer: ab.ada.ID, Privacy: alerts.PrivacyFull, LargeDebit: 125000, Deposits: true, Email: "ada@example.com"}
		if diff := cmp.Diff(want, got, cmpIgnoreUpdated); diff != "" {
			t.Errorf("settings (-want +got):\n%s", diff)
		}
		page := br.get("/notifications")
		if !strings.Contains(page.body, `value="1250.00"`) || !strings.Contains(page.body, `<option value="full" selected>`) {
			t.Errorf("the form does not show the saved settings")
		}
		for _, bad := range []url.Values{{"large_debit": {"-5"}, "privacy": {"full"}}, {"large_debit": {"5"}, "privacy": {"loud"}}} {
			bad.Set("csrf", csrf)
			if res := br.post("/notifications/settings", bad); res.status != http.StatusBadRequest || !strings.Contains(res.body, "not saved") {
				t.Errorf("bad settings %v: status %d", bad, res.status)
			}
		}
		if got2, _ := ab.svc.Settings(context.Background(), ab.ada.ID); got2.LargeDebit != 125000 {
			t.Errorf("bad settings changed the saved ones: %+v", got2)
		}
	})
}

var cmpIgnoreUpdated = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Updated" }, cmp.Ignore())

func TestNotificationsWithoutAlertsIsNotFound(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	b.customer("Ada", "ada@example.com")
	br := b.browser()
	br.login("", "ada@example.com")
	if p := br.get("/notifications"); p.status != http.StatusNotFound {
		t.Errorf("status %d, want 404", p.status)
	}
}

func TestConsoleFraudCases(t *testing.T) {
	t.Parallel()
	ab := newAlertsBank(t)
	ctx := context.Background()
	if _, err := ab.svc.Answer(ctx, ab.ada.ID, ab.adaAlert, alerts.No); err != nil {
		t.Fatal(err)
	}
	// A dead letter: Bob's alert on a chat that refused it.
	st := ab.db.Alerts()
	now := ab.clock.Now()
	d := alerts.Delivery{ID: alerts.DeliveryID(ab.bobAlert, "messenger"), Alert: ab.bobAlert, Customer: ab.bob.ID, Channel: "messenger",
		Rule: alerts.Suspicious, Title: "t", Body: "b", Status: alerts.Pending, NextAt: now, Created: now}
	if err := st.Commit(ctx, "test", 0, alerts.Batch{Deliveries: []alerts.Delivery{d}}, now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(ctx, now, time.Minute, 10, nil, now); err != nil {
		t.Fatal(err)
	}
	if err := st.Failed(ctx, d.ID, "the customer has no linked chat any more", now, true, now); err != nil {
		t.Fatal(err)
	}
	for _, role := range []identity.Role{identity.Administrator, identity.Support, identity.Compliance, identity.Analyst} {
		ab.staff(string(role)+"@bank.example", role)
	}
	for _, tt := range []struct {
		role identity.Role
		want int
		nav  bool
	}{
		{identity.Administrator, http.StatusOK, true}, {identity.Support, http.StatusOK, true},
		{identity.Compliance, http.StatusForbidden, false}, {identity.Analyst, http.StatusForbidden, false},
	} {
		br := ab.browser()
		br.login("/console", string(tt.role)+"@bank.example")
		if got := br.get("/console/alerts").status; got != tt.want {
			t.Errorf("%s: status %d, want %d", tt.role, got, tt.want)
		}
		if nav := strings.Contains(br.get("/console/").body, `href="/console/alerts"`); nav != tt.nav {
			t.Errorf("%s: Fraud cases in nav = %v, want %v", tt.role, nav, tt.nav)
		}
	}

	br := ab.browser()
	br.login("/console", "support@bank.example")
	p := br.get("/console/alerts")
	caseRe := regexp.MustCompile(`data-case="(\d+)"`)
	m := caseRe.FindStringSubmatch(p.body)
	if m == nil || !strings.Contains(p.body, `data-delivery="`+d.ID+`"`) || !strings.Contains(p.body, "no linked chat") {
		t.Fatalf("console page lacks the case or the dead letter:\n%s", p.body)
	}
	csrf := p.field(t, csrfRe)
	if res := br.post("/console/alerts/cases/"+m[1]+"/close", url.Values{"note": {"refunded"}}); res.status != http.StatusForbidden {
		t.Errorf("close without csrf: status %d, want 403", res.status)
	}
	if res := br.post("/console/alerts/cases/"+m[1]+"/close", url.Values{"csrf": {csrf}, "note": {"  "}}); res.status != http.StatusBadRequest {
		t.Errorf("close without a note: status %d, want 400", res.status)
	}
	if res := br.post("/console/alerts/cases/999/close", url.Values{"csrf": {csrf}, "note": {"x"}}); res.status != http.StatusNotFound {
		t.Errorf("close an unknown case: status %d, want 404", res.status)
	}
	if res := br.post("/console/alerts/cases/"+m[1]+"/close", url.Values{"csrf": {csrf}, "note": {"Disputed with the merchant; new card sent."}}); res.status != http.StatusSeeOther {
		t.Fatalf("close: status %d\n%s", res.status, res.body)
	}
	if res := br.post("/console/alerts/dead/"+d.ID+"/requeue", url.Values{"csrf": {csrf}}); res.status != http.StatusSeeOther {
		t.Fatalf("requeue: status %d\n%s", res.status, res.body)
	}
	if res := br.post("/console/alerts/dead/"+d.ID+"/requeue", url.Values{"csrf": {csrf}}); res.status != http.StatusNotFound {
		t.Errorf("requeue twice: status %d, want 404", res.status)
	}
	open, err := ab.svc.Cases(ctx, "open", 10)
	if err != nil || len(open) != 0 {
		t.Errorf("open cases after close = %+v, %v", open, err)
	}
	closed, err := ab.svc.Cases(ctx, "closed", 10)
	if err != nil || len(closed) != 1 || closed[0].Note != "Disputed with the merchant; new card sent." {
		t.Errorf("closed cases = %+v, %v", closed, err)
	}
	if dead, err := ab.svc.DeadLetters(ctx, 10); err != nil || len(dead) != 0 {
		t.Errorf("dead letters after requeue = %+v, %v", dead, err)
	}
	if p := br.get("/console/alerts"); strings.Contains(p.body, "data-case=") || !strings.Contains(p.body, "No open cases.") {
		t.Errorf("console page still lists a case")
	}
}
