package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/web"
)

// mirrorFixture imports two statements of Ada's checking account from the
// core: the first agrees; the second carries a debit the ledger refuses
// (more than the account holds), so the account differs by it and the
// entry is an exception.
func mirrorFixture(t *testing.T, ab *alertsBank) (*rails.Mirror, ledger.Account) {
	t.Helper()
	ctx := context.Background()
	acct := ab.checking(ab.ada.ID)
	m := rails.NewMirror(ab.db.Mirror(), ab.db.Ledger(), rails.MirrorOptions{AccountByNumber: ab.db.Rails().AccountByNumber, Now: ab.clock.Now})
	day := time.Date(2026, 3, 13, 0, 0, 0, 0, time.UTC)
	open := acct.Balance
	stmts := []rails.Statement{
		{ID: "S1", Seq: 1, Account: acct.Number, Currency: "USD", Opening: open, HasOpening: true, Closing: open + 50_00,
			Entries: []rails.StatementEntry{{Ref: "R1", Amount: 50_00, Booked: day, Info: "Deposit"}}},
		{ID: "S2", Seq: 2, Account: acct.Number, Currency: "USD", Opening: open + 50_00, HasOpening: true, Closing: open + 50_00 - 99_999_999_00,
			Entries: []rails.StatementEntry{{Ref: "R2", Amount: -99_999_999_00, Booked: day.AddDate(0, 0, 1), Info: "Wire"}}},
	}
	if _, err := m.Import(ctx, stmts); err != nil {
		t.Fatalf("import: %v", err)
	}
	return m, acct
}

// TestConsoleMirrorReconciliation: the console shows the mirror's
// reconciliation to the staff who see the rails page, the differing account
// and the refused entry with it; the others are refused.
func TestConsoleMirrorReconciliation(t *testing.T) {
	t.Parallel()
	ab := newAlertsBank(t)
	m, acct := mirrorFixture(t, ab)
	ab.handler = web.New(web.Deps{Auth: ab.ids, Ledger: ab.ledger, Logger: slog.New(slog.DiscardHandler), Now: ab.clock.Now,
		BankName: "Test Bank", Alerts: ab.svc, Limits: ab.limits, Rails: ab.rails, Mirror: m})
	ab.staff("support@bank.test", identity.Support)
	ab.staff("analyst@bank.test", identity.Analyst)
	sup := ab.browser()
	sup.login("/console", "support@bank.test")
	p := sup.get("/console/mirror")
	if p.status != http.StatusOK {
		t.Fatalf("support: %d\n%s", p.status, p.body)
	}
	for _, want := range []string{`data-field="differences" class="error">1<`, `data-account="••••` + string(acct.Number)[len(acct.Number)-4:] + `"`, "R2", "insufficient_funds", `href="/console/mirror" aria-current="page"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page lacks %q:\n%s", want, p.body)
		}
	}
	an := ab.browser()
	an.login("/console", "analyst@bank.test")
	if p := an.get("/console/mirror"); p.status != http.StatusForbidden {
		t.Errorf("an analyst: %d", p.status)
	}
	cu := ab.browser()
	cu.login("", "ada@example.com")
	if p := cu.get("/console/mirror"); p.status == http.StatusOK {
		t.Errorf("a customer saw the console page")
	}
}

// TestConsoleMirrorWithoutAccounts: a bank that keeps its own books sees
// that nothing is mirrored.
func TestConsoleMirrorWithoutAccounts(t *testing.T) {
	t.Parallel()
	ab := newAlertsBank(t)
	m := rails.NewMirror(ab.db.Mirror(), ab.db.Ledger(), rails.MirrorOptions{AccountByNumber: ab.db.Rails().AccountByNumber})
	ab.handler = web.New(web.Deps{Auth: ab.ids, Ledger: ab.ledger, Logger: slog.New(slog.DiscardHandler), Now: ab.clock.Now,
		BankName: "Test Bank", Alerts: ab.svc, Limits: ab.limits, Rails: ab.rails, Mirror: m})
	ab.staff("compliance@bank.test", identity.Compliance)
	co := ab.browser()
	co.login("/console", "compliance@bank.test")
	if p := co.get("/console/mirror"); p.status != http.StatusOK || !strings.Contains(p.body, "No account is mirrored") {
		t.Fatalf("%d\n%s", p.status, p.body)
	}
}
