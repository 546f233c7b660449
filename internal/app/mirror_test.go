package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// TestMirrorInbox drops the core's files into the inbox out of order, with
// an unreadable one and one after a gap: a pass imports what it can in
// sequence order, rejects what it cannot read, and leaves the one that
// waits.
// openMirror opens a bank in mirror mode on a fresh data folder, closed
// when the test ends.
func openMirror(t *testing.T) (*Config, *Backend) {
	t.Helper()
	c := &Config{Data: t.TempDir(), Mode: "mirror"}
	b, err := OpenBackend(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return c, b
}

func TestMirrorInbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, b := openMirror(t)
	acct, err := b.Ledger.CreateAccount(ctx, ledger.Account{Customer: 5, Kind: ledger.Checking, Name: "Everyday", Currency: "USD", Number: "CORE777", OpenedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	dir := c.CoreInboxDir()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	drop := func(file string, seq int64, opening, amt ledger.Amount) {
		s := rails.Statement{ID: file, Seq: seq, Account: "CORE777", Currency: "USD", Opening: opening, Closing: opening + amt,
			Entries: []rails.StatementEntry{{Ref: file, Amount: amt}}}
		var buf bytes.Buffer
		if err := rails.WriteCamt053(&buf, "M-"+file, time.Now(), []rails.Statement{s}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file+".xml"), buf.Bytes(), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	drop("a-day2", 2, 110_00, -30_00)
	drop("b-day1", 1, 100_00, 10_00)
	drop("c-day4", 4, 80_00, 5_00)
	os.WriteFile(filepath.Join(dir, "d-broken.xml"), []byte(`<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr>`), 0o640)
	in := &MirrorInbox{Dir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Mirror: rails.NewMirror(b.Mirror, b.Ledger, rails.MirrorOptions{AccountByNumber: b.Rails.AccountByNumber})}
	n, err := in.Pass(ctx)
	if err != nil || n != 3 {
		t.Fatalf("pass: %d files finished, %v", n, err)
	}
	for _, f := range []string{"done/a-day2.xml", "done/b-day1.xml", "rejected/d-broken.xml", "c-day4.xml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	why, _ := os.ReadFile(filepath.Join(dir, "rejected/d-broken.xml.error"))
	if !strings.Contains(string(why), "truncated") {
		t.Errorf("rejection: %q", why)
	}
	a, _ := b.Ledger.Account(ctx, acct.ID)
	if a.Balance != 80_00 {
		t.Fatalf("balance %d, the core's day 2 closed at 80.00", a.Balance)
	}
	// The missing day arrives: the waiting file goes in after it. The
	// core's day 3 closes at 82.00 but its day 4 opens at 80.00: both are
	// imported, and the reconciliation shows the 2.00 the core lost.
	drop("e-day3", 3, 80_00, 2_00)
	if n, err := in.Pass(ctx); err != nil || n != 2 {
		t.Fatalf("pass: %d, %v", n, err)
	}
	rep, err := in.Mirror.Reconcile(ctx)
	if err != nil || rep.Differences != 1 || rep.Accounts[0].Core != 85_00 || rep.Accounts[0].Difference != 2_00 {
		t.Fatalf("reconcile: %v %+v", err, rep)
	}
}

// TestMirrorPaymentsLeaveToTheCore: in mirror mode a payment to another
// bank leaves as a pain.001 in the core's outbox; the core's statement
// booking it (by end-to-end id) settles it through the inbox, the money
// leaving the account once; a pain.002 rejecting another releases its hold.
func TestMirrorPaymentsLeaveToTheCore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, b := openMirror(t)
	led := ledger.New(b.Ledger, b.LedgerOptions())
	defer led.Close()
	acct, err := b.Ledger.CreateAccount(ctx, ledger.Account{Customer: 5, Kind: ledger.Checking, Name: "Everyday", Currency: "USD", Number: "CORE777", OpenedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	in, out := c.CoreInboxDir(), c.CoreOutboxDir()
	for _, d := range []string{in, out} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			t.Fatal(err)
		}
	}
	svc := rails.New(b.Rails, led, rails.Options{Origin: rails.Origin{Routing: "021000089"}, CoreOutbox: out})
	inbox := &MirrorInbox{Dir: in, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Rejected: svc.RejectedByCore,
		Mirror: rails.NewMirror(b.Mirror, b.Ledger, rails.MirrorOptions{AccountByNumber: b.Rails.AccountByNumber, Booked: svc.SettleFromCore})}
	drop := func(file string, s rails.Statement) {
		var buf bytes.Buffer
		if err := rails.WriteCamt053(&buf, "M-"+file, time.Now(), []rails.Statement{s}); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(in, file+".xml"), buf.Bytes(), 0o640); err != nil {
			t.Fatal(err)
		}
		if n, err := inbox.Pass(ctx); err != nil || n != 1 {
			t.Fatalf("pass %s: %d %v", file, n, err)
		}
	}
	drop("day1", rails.Statement{ID: "day1", Seq: 1, Account: "CORE777", Currency: "USD", Opening: 900_00, Closing: 1_000_00,
		Entries: []rails.StatementEntry{{Ref: "C1", Amount: 100_00}}})
	pe, err := svc.AddPayee(ctx, rails.Payee{Customer: 5, Name: "Sam Lee", Nickname: "Sam", Routing: "231380104", Number: "123456789"})
	if err != nil {
		t.Fatal(err)
	}
	pay := func(key string, amt ledger.Amount) rails.Payment {
		p, err := svc.Pay(ctx, rails.PayRequest{Customer: 5, Payee: pe.ID, From: acct.ID, Amount: amt, Channel: "web", Key: key})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1, p2 := pay("k1", 250_00), pay("k2", 40_00)
	if n, err := svc.ToCore(ctx); err != nil || n != 2 {
		t.Fatalf("ToCore: %d %v", n, err)
	}
	body, err := os.ReadFile(filepath.Join(out, rails.CoreFileName(p1.ID)))
	if err != nil || !strings.Contains(string(body), ">250.00</InstdAmt>") || !strings.Contains(string(body), "<Id>CORE777</Id>") {
		t.Fatalf("pain.001: %v\n%s", err, body)
	}
	// The core books p1 on day 2, naming its end-to-end id.
	drop("day2", rails.Statement{ID: "day2", Seq: 2, Account: "CORE777", Currency: "USD", Opening: 1_000_00, Closing: 750_00,
		Entries: []rails.StatementEntry{{Ref: "CORE-TX-1", Amount: -250_00, EndToEnd: rails.EndToEndID(p1.ID)}}})
	if p, _ := b.Rails.Payment(ctx, p1.ID); p.Status != rails.StatusSettled {
		t.Fatalf("p1: %+v", p)
	}
	// The core rejects p2.
	sts := `<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.11"><CstmrPmtStsRpt>
<GrpHdr><MsgId>S1</MsgId><CreDtTm>2026-12-04T20:00:00Z</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>` + rails.EndToEndID(p2.ID) + `</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.10</OrgnlMsgNmId><GrpSts>RJCT</GrpSts></OrgnlGrpInfAndSts>
</CstmrPmtStsRpt></Document>`
	if err := os.WriteFile(filepath.Join(in, "sts.xml"), []byte(sts), 0o640); err != nil {
		t.Fatal(err)
	}
	if n, err := inbox.Pass(ctx); err != nil || n != 1 {
		t.Fatalf("pass pain.002: %d %v", n, err)
	}
	if p, _ := b.Rails.Payment(ctx, p2.ID); p.Status != rails.StatusRefused {
		t.Fatalf("p2: %+v", p)
	}
	a, _ := b.Ledger.Account(ctx, acct.ID)
	if a.Balance != 750_00 || a.Held != 0 {
		t.Fatalf("balance %d held %d; the core closed at 750.00", a.Balance, a.Held)
	}
	if rep, err := b.Ledger.Verify(ctx); err != nil || !rep.OK() {
		t.Fatalf("ledger verify: %v %v", err, rep.Problems)
	}
	rep, err := inbox.Mirror.Reconcile(ctx)
	if err != nil || rep.Differences != 0 || len(rep.Exceptions) != 0 {
		t.Fatalf("mirror reconcile: %+v %v", rep, err)
	}
}

// TestMirrorOpensAccountsFromTheCoresList: the core's account list, dropped
// in the inbox with the day's statements, opens the accounts it names for
// the customers their e-mail addresses name, before the statements are
// imported in the same pass; a row for a customer unknown here is refused
// (its statement waits) and opened by a later list once the customer
// exists; the same list again, or one whose account was opened before a
// crash kept it from being recorded, opens nothing twice; a malformed list
// is rejected naming its line and column. The reconciliation lists what
// was opened and refused.
func TestMirrorOpensAccountsFromTheCoresList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, b := openMirror(t)
	newCustomer := func(email string) bankbridge.CustomerID {
		cu, err := b.Identity.CreateCustomer(ctx, identity.Customer{Name: "Ann Core", Email: email, Since: time.Now()}, "x")
		if err != nil {
			t.Fatal(err)
		}
		return cu.ID
	}
	ann := newCustomer("ann@example.com")
	dir := c.CoreInboxDir()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	statement := func(file string, acct ledger.AccountNumber, opening, amt ledger.Amount) {
		s := rails.Statement{ID: file, Seq: 1, Account: acct, Currency: "USD", Opening: opening, Closing: opening + amt,
			Entries: []rails.StatementEntry{{Ref: file, Amount: amt}}}
		var buf bytes.Buffer
		if err := rails.WriteCamt053(&buf, "M-"+file, time.Now(), []rails.Statement{s}); err != nil {
			t.Fatal(err)
		}
		write(file+".xml", buf.String())
	}
	// An account the mirror opened before it could record it (a crash).
	if _, err := b.Ledger.CreateAccount(ctx, ledger.Account{Customer: ann, Kind: ledger.Checking, Name: "Bills", Currency: "USD", Number: "CORE903", OpenedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	list := rails.AccountListHeader + "\n" +
		"CORE900,USD,checking,Everyday,ann@example.com\n" +
		"CORE901,USD,savings,Rainy day,ANN@example.com\n" +
		"CORE902,USD,checking,Joint,bob@example.com\n" +
		"CORE903,USD,checking,Bills,ann@example.com\n"
	write("accounts-1.csv", list)
	statement("s900", "CORE900", 500_00, 20_00)
	statement("s902", "CORE902", 70_00, 5_00)
	write("accounts-0-bad.csv", rails.AccountListHeader+"\nCORE990,USD,credit,Card,ann@example.com\n")
	in := &MirrorInbox{Dir: dir, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Accounts: AccountOpener(b, "021000089"),
		Mirror: rails.NewMirror(b.Mirror, b.Ledger, rails.MirrorOptions{AccountByNumber: b.Rails.AccountByNumber})}
	if n, err := in.Pass(ctx); err != nil || n != 3 {
		t.Fatalf("pass: %d files finished, %v", n, err)
	}
	why, _ := os.ReadFile(filepath.Join(dir, "rejected", "accounts-0-bad.csv.error"))
	if !strings.Contains(string(why), "line 2, kind") {
		t.Errorf("the bad list's error: %q", why)
	}
	for _, f := range []string{"done/accounts-1.csv", "done/s900.xml", "s902.xml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	accounts := func(cu bankbridge.CustomerID) map[ledger.AccountNumber]ledger.Account {
		as, err := b.Ledger.CustomerAccounts(ctx, cu)
		if err != nil {
			t.Fatal(err)
		}
		m := map[ledger.AccountNumber]ledger.Account{}
		for _, a := range as {
			m[a.Number] = a
		}
		return m
	}
	got := accounts(ann)
	if len(got) != 3 || got["CORE900"].Balance != 520_00 || got["CORE901"].Kind != ledger.Savings || got["CORE901"].Name != "Rainy day" {
		t.Fatalf("ann's accounts: %+v", got)
	}
	rep, err := in.Mirror.Reconcile(ctx)
	if err != nil || rep.Differences != 0 || len(rep.Opened) != 4 {
		t.Fatalf("reconcile: %+v %v", rep, err)
	}
	status := map[ledger.AccountNumber]string{}
	for _, o := range rep.Opened {
		status[o.Number] = o.Status + ": " + o.Detail
	}
	if !strings.HasPrefix(status["CORE900"], "opened: opened from") || !strings.HasPrefix(status["CORE903"], "opened: already open") ||
		!strings.Contains(status["CORE902"], "refused: no customer here has the e-mail address bob@example.com") {
		t.Fatalf("the list's rows: %v", status)
	}
	// The same list tomorrow, with Bob a customer now: his account opens,
	// his waiting statement goes in, nothing else is opened twice.
	bob := newCustomer("bob@example.com")
	write("accounts-2.csv", list)
	if n, err := in.Pass(ctx); err != nil || n != 2 {
		t.Fatalf("second pass: %d %v", n, err)
	}
	if got := accounts(ann); len(got) != 3 {
		t.Fatalf("ann's accounts after the list again: %+v", got)
	}
	if got := accounts(bob); len(got) != 1 || got["CORE902"].Balance != 75_00 {
		t.Fatalf("bob's accounts: %+v", got)
	}
	rep, err = in.Mirror.Reconcile(ctx)
	if err != nil || rep.Differences != 0 || len(rep.Accounts) != 2 {
		t.Fatalf("reconcile: %+v %v", rep, err)
	}
	for _, o := range rep.Opened {
		if o.Status != "opened" || (o.Number == "CORE900" && o.File != "accounts-1.csv") {
			t.Fatalf("after the second list: %+v", rep.Opened)
		}
	}
	if vr, err := b.Ledger.Verify(ctx); err != nil || !vr.OK() {
		t.Fatalf("ledger verify: %v %v", err, vr.Problems)
	}
}
