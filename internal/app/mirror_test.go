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

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// TestMirrorInbox drops the core's files into the inbox out of order, with
// an unreadable one and one after a gap: a pass imports what it can in
// sequence order, rejects what it cannot read, and leaves the one that
// waits.
func TestMirrorInbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := Config{Data: t.TempDir(), Mode: "mirror"}
	b, err := OpenBackend(ctx, &c)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
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
