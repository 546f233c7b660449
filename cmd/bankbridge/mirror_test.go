package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// TestMirrorCommands imports the core's statements with the command, twice,
// then a gap, a truncated file and a reconciliation.
func TestMirrorCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	c := app.Config{Data: dir}
	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Ledger.CreateAccount(ctx, ledger.Account{Customer: 3, Kind: ledger.Checking, Name: "Everyday", Currency: "USD", Number: "CORE0001234", OpenedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	write := func(name string, seq int64, opening ledger.Amount, amts ...ledger.Amount) string {
		s := rails.Statement{ID: name, Seq: seq, Account: "CORE0001234", Currency: "USD", Opening: opening, Closing: opening}
		for i, a := range amts {
			s.Entries = append(s.Entries, rails.StatementEntry{Ref: name + "-" + string(rune('a'+i)), Amount: a})
			s.Closing += a
		}
		var buf bytes.Buffer
		if err := rails.WriteCamt053(&buf, "M"+name, time.Now(), []rails.Statement{s}); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name+".xml")
		if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	d1 := write("D1", 1, 500_00, 20_00, -5_00)
	d2 := write("D2", 2, 515_00, -15_00)
	d4 := write("D4", 4, 500_00, 1_00)
	for i, want := range []string{"statement 1 (D1): imported, 3 entries posted", "statement 1 (D1): already imported"} {
		out, err := runCmd(t, "mirror", "import", "--data", dir, d1)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("import %d: %v\n%s", i, err, out)
		}
	}
	out, err := runCmd(t, "mirror", "import", "--data", dir, d4, d2)
	if err == nil || !strings.Contains(out, "statement 2 (D2): imported") || !strings.Contains(out, "statement 3 is missing") {
		t.Fatalf("a gap: %v\n%s", err, out)
	}
	body, _ := os.ReadFile(d4)
	cut := filepath.Join(dir, "cut.xml")
	os.WriteFile(cut, body[:len(body)-40], 0o600)
	if out, err := runCmd(t, "mirror", "import", "--data", dir, cut); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("a truncated file: %v\n%s", err, out)
	}
	out, err = runCmd(t, "mirror", "reconcile", "--data", dir)
	if err != nil || !strings.Contains(out, "1 accounts mirrored, 0 differ") || !strings.Contains(out, "core 500.00 USD  mirror 500.00 USD  agrees") {
		t.Fatalf("reconcile: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "ledger", "verify", "--data", dir); err != nil {
		t.Fatalf("ledger verify: %v\n%s", err, out)
	}
	if _, err := runCmd(t, "mirror", "import", "--data", dir); err == nil {
		t.Fatal("import of no file")
	}
}
