package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/web"
)

// auditBank is a bank whose web app has a real audit log.
func auditBank(t *testing.T) (*bank, *audit.Log) {
	t.Helper()
	b := newBank(t, bankOptions{})
	key, err := audit.LoadOrCreateKey(filepath.Join(t.TempDir(), audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(b.db.Audit(), audit.Options{Key: key, Now: b.clock.Now, SealEvery: time.Hour})
	t.Cleanup(l.Close)
	b.handler = web.New(web.Deps{Auth: b.ids, Ledger: b.ledger, Logger: slog.New(slog.DiscardHandler), Now: b.clock.Now,
		BankName: "Test Bank", Audit: l})
	return b, l
}

func TestStaffViewsAreRecorded(t *testing.T) {
	t.Parallel()
	b, l := auditBank(t)
	c := b.customer("Ada Lovelace", "ada@example.com")
	a1 := b.account(c.ID, "Everyday", ledger.Checking, 5000)
	a2 := b.account(c.ID, "Savings", ledger.Savings, 0)
	st := b.staff("agent@bank.test", identity.Support)
	br := b.browser()
	br.login("/console", "agent@bank.test")
	if p := br.get(fmt.Sprintf("/console/customers/%d", c.ID)); p.status != http.StatusOK {
		t.Fatalf("customer page: %d", p.status)
	}
	p, err := l.Records(context.Background(), audit.Query{Customer: c.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 1 {
		t.Fatalf("%d records after one staff view, want 1", len(p.Records))
	}
	r := p.Records[0]
	if r.Kind != audit.StaffView || r.Actor != fmt.Sprintf("staff:%d", st.ID) || len(r.Accounts) != 2 ||
		r.Accounts[0] != a1.ID || r.Accounts[1] != a2.ID || r.RequestID == "" {
		t.Errorf("staff view recorded as %+v", r)
	}
}

// failingLog refuses every record.
type failingLog struct{ web.AuditLog }

func (failingLog) Append(context.Context, audit.Record) (audit.Record, error) {
	return audit.Record{}, audit.ErrClosed.WithOp("test", errors.New("disk full"))
}

func TestNoRecordNoStaffView(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	b.handler = web.New(web.Deps{Auth: b.ids, Ledger: b.ledger, Logger: slog.New(slog.DiscardHandler), Now: b.clock.Now, Audit: failingLog{}})
	c := b.customer("Ada Lovelace", "ada@example.com")
	b.account(c.ID, "Everyday", ledger.Checking, 123456)
	b.staff("agent@bank.test", identity.Support)
	br := b.browser()
	br.login("/console", "agent@bank.test")
	p := br.get(fmt.Sprintf("/console/customers/%d", c.ID))
	if p.status == http.StatusOK || strings.Contains(p.body, "1,234.56") || strings.Contains(p.body, "ada@example.com") {
		t.Fatalf("the customer's data was shown although the view could not be recorded (status %d)", p.status)
	}
}

func TestWhoSawMyData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, l := auditBank(t)
	ada := b.customer("Ada Lovelace", "ada@example.com")
	acct := b.account(ada.ID, "Everyday", ledger.Checking, 5000)
	bob := b.customer("Bob", "bob@example.com")
	for i, r := range []audit.Record{
		{Kind: audit.DataAccess, Partner: "budgetapp", Customer: ada.ID, Accounts: []ledger.AccountID{acct.ID}, Clusters: []string{"BALANCES"}, Purpose: "show your budget"},
		{Kind: audit.DataAccess, Partner: "budgetapp", Customer: ada.ID, Accounts: []ledger.AccountID{acct.ID}, Clusters: []string{"TRANSACTIONS"}, Purpose: "show your budget", Outcome: audit.Denied},
		{Kind: audit.PlatformMessage, Partner: "messenger", Customer: ada.ID, Accounts: []ledger.AccountID{acct.ID}, Clusters: []string{"BALANCES"}, Purpose: "balance alert"},
		{Kind: audit.DataAccess, Partner: "snoopco", Customer: bob.ID, Clusters: []string{"BALANCES"}, Purpose: "other customer"},
	} {
		b.clock.Add(time.Minute)
		r.RequestID = fmt.Sprint("req-", i)
		if _, err := l.Append(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	b.staff("agent@bank.test", identity.Support)
	staff := b.browser()
	staff.login("/console", "agent@bank.test")
	staff.get(fmt.Sprintf("/console/customers/%d", ada.ID))
	if _, err := l.Seal(ctx); err != nil {
		t.Fatal(err)
	}

	br := b.browser()
	br.login("", "ada@example.com")
	p := br.get("/privacy/disclosures")
	if p.status != http.StatusOK {
		t.Fatalf("disclosures page: %d\n%s", p.status, p.body)
	}
	for _, want := range []string{`data-partner="budgetapp"`, `data-partner="messenger"`, "Bank staff", "Balances", "Transactions",
		"Everyday ending", "show your budget", "nothing shared", "Viewed by bank staff", "/privacy/disclosures.csv"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page does not show %q", want)
		}
	}
	if strings.Contains(p.body, "snoopco") || strings.Contains(p.body, "other customer") {
		t.Error("the page shows another customer's records")
	}

	j := br.get("/privacy/disclosures.json")
	if j.status != http.StatusOK || !strings.Contains(j.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("JSON export: %d %v", j.status, j.header)
	}
	var x audit.Export
	if err := json.Unmarshal([]byte(j.body), &x); err != nil {
		t.Fatal(err)
	}
	if len(x.Entries) != 4 {
		t.Fatalf("the export has %d records, want Ada's 4", len(x.Entries))
	}
	for _, e := range x.Entries {
		if e.Customer != ada.ID {
			t.Errorf("record %d of customer %d in Ada's export", e.Seq, e.Customer)
		}
		if err := x.Check(e); err != nil {
			t.Errorf("record %d: %v", e.Seq, err)
		}
	}
	c := br.get("/privacy/disclosures.csv")
	if c.status != http.StatusOK || !strings.HasPrefix(c.header.Get("Content-Type"), "text/csv") ||
		len(strings.Split(strings.TrimSpace(c.body), "\n")) != 5 || !strings.Contains(c.body, "inclusion_path") {
		t.Fatalf("CSV export: %d %q\n%s", c.status, c.header.Get("Content-Type"), c.body)
	}
	// Not signed in: the login page, never someone's records.
	if p := b.browser().get("/privacy/disclosures.json"); p.status != http.StatusSeeOther {
		t.Errorf("export without a session: %d", p.status)
	}
}

func TestConsoleAuditPage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, l := auditBank(t)
	for i := range 5 {
		kind := audit.DataAccess
		if i%2 == 1 {
			kind = audit.ConsentGranted
		}
		if _, err := l.Append(ctx, audit.Record{Kind: kind, Partner: "budgetapp", Customer: bankbridge.CustomerID(7), RequestID: fmt.Sprint("req-", i)}); err != nil {
			t.Fatal(err)
		}
	}
	b.staff("compliance@bank.test", identity.Compliance)
	b.staff("agent@bank.test", identity.Support)
	agent := b.browser()
	agent.login("/console", "agent@bank.test")
	if p := agent.get("/console/audit"); p.status != http.StatusForbidden {
		t.Errorf("support staff reading the audit log: %d", p.status)
	}
	co := b.browser()
	co.login("/console", "compliance@bank.test")
	for _, c := range []struct {
		query  string
		status int
		rows   int
	}{
		{"", 200, 6}, // and the support agent's refused attempt above
		{"?kind=access_refused", 200, 1},
		{"?kind=consent_granted", 200, 2},
		{"?customer=7&partner=budgetapp", 200, 5},
		{"?customer=8", 200, 0},
		{"?kind=peek", 400, 0},
		{"?from=14/03/2026", 400, 0},
		{"?customer=-3", 400, 0},
	} {
		p := co.get("/console/audit" + c.query)
		if p.status != c.status || strings.Count(p.body, "data-seq=") != c.rows {
			t.Errorf("GET /console/audit%s: %d with %d rows; want %d with %d", c.query, p.status, strings.Count(p.body, "data-seq="), c.status, c.rows)
		}
	}
}
