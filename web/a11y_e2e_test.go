package web_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testbrowser"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/scheduled"
	"github.com/bankbridge/bankbridge/web"
)

// TestBrowserAccessibility scans every page of the customer app and of the
// console, for the customer and for each staff role, with axe-core (WCAG
// 2.0-2.2 A and AA) at 1280 px, 390 px and 200% zoom: no violation, no
// sideways scrolling on small screens, the skip link first in the tab
// order (web/e2e/a11y.mjs); the customer's disclosures page is scanned
// again once the staff have opened her accounts and it lists them; then,
// by keyboard alone, it logs in, freezes a card, disputes a payment, moves
// money through the confirmation and schedules a monthly payment.
// BANKBRIDGE_SCREENSHOTS=dir keeps screenshots of the main pages there
// (docs/screenshots is made this way).
func TestBrowserAccessibility(t *testing.T) {
	t.Parallel()
	ab := newAlertsBank(t)
	ctx := context.Background()
	l := audit.New(ab.db.Audit(), audit.Options{Key: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), Now: ab.clock.Now, SealEvery: time.Hour})
	t.Cleanup(l.Close)
	sched := scheduled.New(ab.db.Scheduled(), ab.ledger, scheduled.Options{Teller: teller{ab.svc}, Limits: ab.limits, Now: ab.clock.Now})
	mirror, _ := mirrorFixture(t, ab) // the mirror page with a differing account and a refused entry
	ab.handler = web.New(web.Deps{Auth: ab.ids, Ledger: ab.ledger, Logger: slog.New(slog.DiscardHandler), Now: ab.clock.Now,
		BankName: "Test Bank", Alerts: ab.svc, Audit: l, Limits: ab.limits, Mail: &mailbox{}, PublicURL: "https://bank.test", Scheduled: sched, Rails: ab.rails,
		Mirror: mirror, TimeZones: ab.db.Messenger()})
	// Ada chose her time zone: her pages come from the templates parsed
	// for it (and the security page shows the choice).
	if err := ab.db.Messenger().SetTimeZone(ctx, ab.ada.ID, "America/Mexico_City", ab.clock.Now()); err != nil {
		t.Fatal(err)
	}
	checking := ab.checking(ab.ada.ID)
	rainy := ab.account(ab.ada.ID, "Rainy day savings", ledger.Savings, 1200000)
	// A monthly payment to savings, paid once, and one that was refused:
	// the scheduled payments' page with its runs.
	var monthly scheduled.Order
	for i, o := range []scheduled.Order{
		{Label: "Rainy day savings", Amount: 10000, Every: scheduled.Monthly, Count: 12, Memo: "Saving up"},
		{Label: "Rainy day savings", Amount: 9_000_000, Every: scheduled.Once},
	} {
		o.Customer, o.From, o.To, o.Currency, o.Start = ab.ada.ID, checking.ID, rainy.ID, "USD", ab.clock.Now()
		made, err := sched.Create(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			monthly = made
		}
	}
	editOrder := fmt.Sprintf("/scheduled/%d/edit", monthly.ID)
	if _, err := sched.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	ab.move(ab.funding, checking.ID, 420000, "Salary, Acme Corp")
	tr := ab.cardPayment(checking.ID, 4250, "Corner Grocery")
	tr2 := ab.cardPayment(checking.ID, 1899, "Streamflix")
	cards, _ := ab.db.Ledger().CustomerCards(ctx, ab.ada.ID)
	k, err := ab.svc.OpenDispute(ctx, ab.ada.ID, tr, alerts.DisputeNotAsDescribed, "The apples were rotten.")
	if err != nil {
		t.Fatal(err)
	}
	// A payment the sanctions screen holds, and its case in the queue.
	pe, err := ab.rails.AddPayee(ctx, rails.Payee{Customer: ab.ada.ID, Name: "Dmitri Kovalenko", Nickname: "Dmitri", Routing: "231380104", Number: "123456789", Type: rails.Checking})
	if err != nil {
		t.Fatal(err)
	}
	held, err := ab.rails.Pay(ctx, rails.PayRequest{Customer: ab.ada.ID, Payee: pe.ID, From: checking.ID, Amount: 1000, Channel: "web", Key: "a11y-held"})
	if err != nil || held.Status != rails.StatusHeld {
		t.Fatalf("a payment to a listed name: %+v, %v", held, err)
	}
	sk, err := ab.svc.OpenSanctionsCase(ctx, ab.ada.ID, int64(held.ID), held.Hold, held.Amount, held.Currency, held.Screen)
	if err != nil {
		t.Fatal(err)
	}
	// A verified payee holding Ada's own account at another bank (the
	// collection form) and a settled instant payment (its page offers to
	// ask it back; the form to do so). The list of payments is left out:
	// it refreshes itself (meta refresh, axe's meta-refresh rule), as a
	// payment's page does until the payment ends.
	own, err := ab.rails.AddPayee(ctx, rails.Payee{Customer: ab.ada.ID, Name: "Ada Lovelace", Nickname: "Ada savings", Routing: "231380104", Number: "987654321", Type: rails.Checking})
	if err != nil {
		t.Fatal(err)
	}
	if err := ab.rails.Store().UpdatePayee(ctx, own.ID, rails.PayeeVerified, "", "", "", ""); err != nil {
		t.Fatal(err)
	}
	sam, err := ab.rails.AddPayee(ctx, rails.Payee{Customer: ab.ada.ID, Name: "Sam Lee", Nickname: "Sam", Routing: "231380104", Number: "123456789", Type: rails.Checking})
	if err != nil {
		t.Fatal(err)
	}
	inst, err := ab.rails.PayInstant(ctx, rails.PayRequest{Customer: ab.ada.ID, Payee: sam.ID, From: checking.ID, Amount: 2000, Channel: "web", Key: "a11y-instant"})
	if err != nil || inst.Status != rails.StatusSettled {
		t.Fatalf("an instant payment: %+v, %v", inst, err)
	}
	railPages := []string{"/payees", fmt.Sprintf("/payees/%d/collect", own.ID), fmt.Sprintf("/payments/ach/%d", inst.ID),
		fmt.Sprintf("/payments/ach/%d/recall", inst.ID)}
	roles := []identity.Role{identity.Administrator, identity.Support, identity.Compliance, identity.Analyst}
	for _, r := range roles {
		ab.staff(string(r)+"@bank.test", r)
	}
	srv := httptest.NewServer(ab.handler)
	t.Cleanup(srv.Close)

	type who struct {
		Realm string   `json:"realm"`
		Name  string   `json:"name"`
		Email string   `json:"email"`
		Pages []string `json:"pages"`
		Lang  string   `json:"lang,omitempty"`
		// Wave orders the scans where pages depend on each other: the
		// script scans a wave's people side by side, and starts a wave
		// when the one before it has ended.
		Wave int `json:"wave,omitempty"`
	}
	plan := []who{
		{Realm: "public", Name: "visitor", Pages: []string{"/login", "/password/forgot", "/password/reset?token=x", "/console/login"}},
		{Realm: "customer", Name: "customer", Email: "ada@example.com", Pages: []string{
			"/accounts", fmt.Sprintf("/accounts/%d", checking.ID), fmt.Sprintf("/accounts/%d?q=zzz&from=2026-01-01", checking.ID),
			"/transfer", "/cards", fmt.Sprintf("/cards/%d/freeze", cards[0].ID), fmt.Sprintf("/cards/%d/report", cards[0].ID),
			"/cases", fmt.Sprintf("/cases/%d", k.ID), fmt.Sprintf("/disputes/new?transfer=%d", tr.ID),
			"/notifications", "/privacy/disclosures", "/security", "/scheduled", editOrder, "/nowhere"}},
	}
	plan[1].Pages = append(plan[1].Pages, railPages...)
	// The customer's pages again in Spanish: the lang attribute and the
	// longer Spanish words must pass the same scan.
	plan = append(plan,
		who{Realm: "public", Name: "visitor-es", Lang: "es", Pages: []string{"/login", "/password/forgot", "/password/reset?token=x"}},
		who{Realm: "customer", Name: "customer-es", Email: "ada@example.com", Lang: "es", Pages: []string{
			"/accounts", fmt.Sprintf("/accounts/%d", checking.ID), "/transfer", "/cards", fmt.Sprintf("/cards/%d/report", cards[0].ID),
			"/cases", fmt.Sprintf("/cases/%d", k.ID), fmt.Sprintf("/disputes/new?transfer=%d", tr.ID),
			"/notifications", "/privacy/disclosures", "/security", "/scheduled", editOrder, "/nowhere"}})
	plan[3].Pages = append(plan[3].Pages, railPages...)
	for _, r := range roles {
		plan = append(plan, who{Realm: "staff", Name: string(r), Email: string(r) + "@bank.test", Wave: 1, Pages: []string{
			"/console/", "/console/customers?q=e", fmt.Sprintf("/console/customers/%d", ab.ada.ID),
			fmt.Sprintf("/console/accounts/%d/status?to=frozen", checking.ID), "/console/cases", fmt.Sprintf("/console/cases/%d", k.ID),
			fmt.Sprintf("/console/cases/%d", sk.ID), "/console/rails", "/console/mirror",
			"/console/audit", "/console/alerts", "/console/logins"}})
	}
	// The staff above opened Ada's accounts: her disclosures page now lists
	// them, in a table that is wider than a phone.
	plan = append(plan,
		who{Realm: "customer", Name: "customer-after-staff", Email: "ada@example.com", Wave: 2, Pages: []string{"/privacy/disclosures"}},
		who{Realm: "customer", Name: "customer-es-after-staff", Email: "ada@example.com", Lang: "es", Wave: 2, Pages: []string{"/privacy/disclosures"}})
	shots := map[string]string{"/login": "login", "/accounts": "accounts", fmt.Sprintf("/accounts/%d", checking.ID): "history",
		"/cards": "cards", fmt.Sprintf("/cases/%d", k.ID): "dispute-case", fmt.Sprintf("/disputes/new?transfer=%d", tr.ID): "dispute-form",
		"/notifications": "alerts", "/security": "security", "/password/forgot": "password-forgot", "/scheduled": "scheduled"}
	staffShots := map[string]string{"/console/customers?q=e": "console-search", fmt.Sprintf("/console/customers/%d", ab.ada.ID): "console-customer",
		"/console/cases": "console-cases", fmt.Sprintf("/console/cases/%d", k.ID): "console-case",
		fmt.Sprintf("/console/accounts/%d/status?to=frozen", checking.ID): "console-freeze", "/console/audit": "console-audit"}
	for p, n := range staffShots {
		shots[p] = n // taken as each role; the last one (the analyst's) would be a 403, so staff shots are the administrator's below
	}
	planJSON, _ := json.Marshal(plan)
	shotsJSON, _ := json.Marshal(shots)
	keys, _ := json.Marshal(map[string]string{"email": "ada@example.com", "dispute": fmt.Sprintf("/disputes/new?transfer=%d", tr2.ID), "to": "Rainy", "edit": editOrder})
	dir := os.Getenv("BANKBRIDGE_SCREENSHOTS")
	if dir != "" {
		// Screenshots: the customer and the administrator only, so the
		// console's pages are shown as a role that may see them.
		planJSON, _ = json.Marshal(append(plan[:2:2], plan[4])) // visitor, customer, administrator
	}
	testbrowser.Run(t, "e2e", "a11y.mjs", "BANKBRIDGE_E2E_SCREENSHOT", 10*time.Minute,
		"BASE_URL="+srv.URL, "PASSWORD="+password, "PLAN="+string(planJSON), "SHOTS="+dir, "SHOT_PAGES="+string(shotsJSON),
		"KEYS="+string(keys))
	// The keyboard walk froze the card and opened a second dispute.
	if got := ab.cardStatus(ab.ada.ID); got != ledger.CardFrozen {
		t.Errorf("after the keyboard walk the card is %s, want frozen", got)
	}
	if ks, _ := ab.svc.CustomerCases(ctx, ab.ada.ID); len(ks) != 2 {
		t.Errorf("after the keyboard walk Ada has %d cases, want 2", len(ks))
	}
	// It moved 25.00 to savings (the monthly order's first 100.00 before).
	if got, want := ab.get(rainy.ID).Available(), ledger.Amount(1200000+10000+2500); got != want {
		t.Errorf("after the keyboard transfer savings hold %d, want %d", got, want)
	}
	if os, _ := ab.db.Scheduled().Orders(ctx, ab.ada.ID); len(os) != 3 {
		t.Errorf("after the keyboard walk Ada has %d scheduled payments, want 3", len(os))
	}
	// It changed the monthly payment to 120.00, with its history.
	if o, err := ab.db.Scheduled().Order(ctx, ab.ada.ID, monthly.ID); err != nil || o.Amount != 12000 {
		t.Errorf("after the keyboard walk the monthly payment is %+v, %v; want 120.00", o, err)
	}
	if hist, _ := ab.db.Scheduled().Changes(ctx, ab.ada.ID, monthly.ID, 5); len(hist) != 1 || !strings.Contains(hist[0].Detail, "120.00 USD") {
		t.Errorf("the change's history: %+v", hist)
	}
}
