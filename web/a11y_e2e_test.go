package web_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testbrowser"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/web"
)

// TestBrowserAccessibility scans every page of the customer app and of the
// console, for the customer and for each staff role, with axe-core (WCAG
// 2.0-2.2 A and AA) at 1280 px, 390 px and 200% zoom: no violation, no
// sideways scrolling on small screens, the skip link first in the tab
// order (web/e2e/a11y.mjs). BANKBRIDGE_SCREENSHOTS=dir keeps screenshots
// of the main pages there (docs/screenshots is made this way).
func TestBrowserAccessibility(t *testing.T) {
	ab := newAlertsBank(t)
	ctx := context.Background()
	l := audit.New(ab.db.Audit(), audit.Options{Key: ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), Now: ab.clock.Now, SealEvery: time.Hour})
	t.Cleanup(l.Close)
	ab.handler = web.New(web.Deps{Auth: ab.ids, Ledger: ab.ledger, Logger: slog.New(slog.DiscardHandler), Now: ab.clock.Now,
		BankName: "Test Bank", Alerts: ab.svc, Audit: l, Limits: ab.limits, Mail: &mailbox{}, PublicURL: "https://bank.test"})
	checking := ab.checking(ab.ada.ID)
	ab.account(ab.ada.ID, "Rainy day savings", ledger.Savings, 1200000)
	ab.move(ab.funding, checking.ID, 420000, "Salary, Acme Corp")
	tr := ab.cardPayment(checking.ID, 4250, "Corner Grocery")
	tr2 := ab.cardPayment(checking.ID, 1899, "Streamflix")
	cards, _ := ab.db.Ledger().CustomerCards(ctx, ab.ada.ID)
	k, err := ab.svc.OpenDispute(ctx, ab.ada.ID, tr, alerts.DisputeNotAsDescribed, "The apples were rotten.")
	if err != nil {
		t.Fatal(err)
	}
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
	}
	plan := []who{
		{Realm: "public", Name: "visitor", Pages: []string{"/login", "/password/forgot", "/password/reset?token=x", "/console/login"}},
		{Realm: "customer", Name: "customer", Email: "ada@example.com", Pages: []string{
			"/accounts", fmt.Sprintf("/accounts/%d", checking.ID), fmt.Sprintf("/accounts/%d?q=zzz&from=2026-01-01", checking.ID),
			"/transfer", "/cards", fmt.Sprintf("/cards/%d/freeze", cards[0].ID), fmt.Sprintf("/cards/%d/report", cards[0].ID),
			"/cases", fmt.Sprintf("/cases/%d", k.ID), fmt.Sprintf("/disputes/new?transfer=%d", tr.ID),
			"/notifications", "/privacy/disclosures", "/security", "/nowhere"}},
	}
	// The customer's pages again in Spanish: the lang attribute and the
	// longer Spanish words must pass the same scan.
	plan = append(plan,
		who{Realm: "public", Name: "visitor-es", Lang: "es", Pages: []string{"/login", "/password/forgot", "/password/reset?token=x"}},
		who{Realm: "customer", Name: "customer-es", Email: "ada@example.com", Lang: "es", Pages: []string{
			"/accounts", fmt.Sprintf("/accounts/%d", checking.ID), "/transfer", "/cards", fmt.Sprintf("/cards/%d/report", cards[0].ID),
			"/cases", fmt.Sprintf("/cases/%d", k.ID), fmt.Sprintf("/disputes/new?transfer=%d", tr.ID),
			"/notifications", "/privacy/disclosures", "/security", "/nowhere"}})
	for _, r := range roles {
		plan = append(plan, who{Realm: "staff", Name: string(r), Email: string(r) + "@bank.test", Pages: []string{
			"/console/", "/console/customers?q=e", fmt.Sprintf("/console/customers/%d", ab.ada.ID),
			fmt.Sprintf("/console/accounts/%d/status?to=frozen", checking.ID), "/console/cases", fmt.Sprintf("/console/cases/%d", k.ID),
			"/console/audit", "/console/alerts", "/console/logins"}})
	}
	shots := map[string]string{"/login": "login", "/accounts": "accounts", fmt.Sprintf("/accounts/%d", checking.ID): "history",
		"/cards": "cards", fmt.Sprintf("/cases/%d", k.ID): "dispute-case", fmt.Sprintf("/disputes/new?transfer=%d", tr.ID): "dispute-form",
		"/notifications": "alerts", "/security": "security", "/password/forgot": "password-forgot"}
	staffShots := map[string]string{"/console/customers?q=e": "console-search", fmt.Sprintf("/console/customers/%d", ab.ada.ID): "console-customer",
		"/console/cases": "console-cases", fmt.Sprintf("/console/cases/%d", k.ID): "console-case",
		fmt.Sprintf("/console/accounts/%d/status?to=frozen", checking.ID): "console-freeze", "/console/audit": "console-audit"}
	for p, n := range staffShots {
		shots[p] = n // taken as each role; the last one (the analyst's) would be a 403, so staff shots are the administrator's below
	}
	planJSON, _ := json.Marshal(plan)
	shotsJSON, _ := json.Marshal(shots)
	dir := os.Getenv("BANKBRIDGE_SCREENSHOTS")
	if dir != "" {
		// Screenshots: the customer and the administrator only, so the
		// console's pages are shown as a role that may see them.
		planJSON, _ = json.Marshal(append(plan[:2:2], plan[4])) // visitor, customer, administrator
	}
	testbrowser.Run(t, "e2e", "a11y.mjs", "BANKBRIDGE_E2E_SCREENSHOT", 10*time.Minute,
		"BASE_URL="+srv.URL, "PASSWORD="+password, "PLAN="+string(planJSON), "SHOTS="+dir, "SHOT_PAGES="+string(shotsJSON),
		fmt.Sprintf(`KEYS={"email":"ada@example.com","dispute":"/disputes/new?transfer=%d"}`, tr2.ID))
	// The keyboard walk froze the card and opened a second dispute.
	if got := ab.cardStatus(ab.ada.ID); got != ledger.CardFrozen {
		t.Errorf("after the keyboard walk the card is %s, want frozen", got)
	}
	if ks, _ := ab.svc.CustomerCases(ctx, ab.ada.ID); len(ks) != 2 {
		t.Errorf("after the keyboard walk Ada has %d cases, want 2", len(ks))
	}
}
