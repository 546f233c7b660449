package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// auditData makes a data folder with an audit log of n records (customer
// 1 + i%3) sealed in two heads, and returns the folder.
func auditData(t *testing.T, n int) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bankbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key, err := audit.LoadOrCreateKey(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	l := audit.New(db.Audit(), audit.Options{Key: key, SealEvery: time.Hour})
	for i := range n {
		if _, err := l.Append(ctx, audit.Record{Kind: audit.DataAccess, Partner: "budgetapp", Customer: bankbridge.CustomerID(1 + i%3),
			Accounts: []ledger.AccountID{ledger.AccountID(i)}, Clusters: []string{"BALANCES"}, Purpose: "budgeting",
			RequestID: fmt.Sprint("req-", i), Detail: "GET /accounts/{id}/balances"}); err != nil {
			t.Fatal(err)
		}
		if i == n/2 {
			if _, err := l.Seal(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	l.Close() // seals the rest
	return dir
}

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"bankbridge"}, args...), func(string) string { return "" }, strings.NewReader(""), &out, &errb)
	return out.String() + errb.String(), err
}

func TestAuditVerify(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		tamper []string
		words  []string
	}{
		{"Sound", nil, []string{"audit OK"}},
		{"EditedRecord", []string{`UPDATE audit_records SET purpose = 'advertising' WHERE seq = 5`}, []string{"PROBLEM: record 5 ", "edited"}},
		{"DeletedRecord", []string{`DELETE FROM audit_records WHERE seq = 8`}, []string{"PROBLEM: record 8 is missing"}},
		{"ReorderedRecords", []string{
			`UPDATE audit_records SET seq = -1 WHERE seq = 2`,
			`UPDATE audit_records SET seq = 2 WHERE seq = 3`,
			`UPDATE audit_records SET seq = 3 WHERE seq = -1`,
		}, []string{"PROBLEM: record 2 ", "PROBLEM: record 3 ", "moved"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := auditData(t, 20)
			if c.tamper != nil {
				db, err := sqlite.Open(context.Background(), filepath.Join(dir, "bankbridge.db"))
				if err != nil {
					t.Fatal(err)
				}
				for _, q := range c.tamper {
					if err := db.ExecAudit(q); err != nil {
						t.Fatal(err)
					}
				}
				db.Close()
			}
			out, err := runCmd(t, "audit", "verify", "--data", dir)
			if (err == nil) != (c.tamper == nil) {
				t.Fatalf("verify returned %v\n%s", err, out)
			}
			for _, w := range c.words {
				if !strings.Contains(out, w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("AnotherPublishedKey", func(t *testing.T) {
		t.Parallel()
		dir := auditData(t, 3)
		out, err := runCmd(t, "audit", "verify", "--data", dir, "--public-key", strings.Repeat("ab", 32))
		if err == nil || !strings.Contains(out, "signature does not verify") {
			t.Fatalf("verify against another key: %v\n%s", err, out)
		}
	})
}

func TestAuditExport(t *testing.T) {
	t.Parallel()
	dir := auditData(t, 12)
	out, err := runCmd(t, "audit", "export", "--data", dir, "--customer", "2", "--format", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var x audit.Export
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(x.Entries) != 4 {
		t.Fatalf("customer 2 has %d records in the export, want 4", len(x.Entries))
	}
	for _, e := range x.Entries {
		if e.Customer != 2 {
			t.Errorf("record %d of customer %d in customer 2's export", e.Seq, e.Customer)
		}
		if err := x.Check(e); err != nil {
			t.Error(err)
		}
	}
	file := filepath.Join(t.TempDir(), "partner.csv")
	out, err = runCmd(t, "audit", "export", "--data", dir, "--partner", "budgetapp", "--format", "csv", "--out", file)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(b)), "\n"); len(lines) != 13 || !strings.HasPrefix(lines[0], "seq,time,kind,partner") {
		t.Errorf("CSV export: %d lines, header %q", len(lines), lines[0])
	}
	if _, err := runCmd(t, "audit", "export", "--data", dir, "--customer", "2", "--partner", "x"); err == nil {
		t.Error("export with two selectors was accepted")
	}
}

func TestAuditPrune(t *testing.T) {
	t.Parallel()
	dir := auditData(t, 6) // records of today: nothing is old enough
	archive := filepath.Join(t.TempDir(), "archive.json")
	out, err := runCmd(t, "audit", "prune", "--data", dir, "--retention-days", "30", "--archive", archive)
	if err != nil || !strings.Contains(out, "nothing older") {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := os.Stat(archive); !os.IsNotExist(err) {
		t.Errorf("an empty archive was left behind: %v", err)
	}
	if out, err := runCmd(t, "audit", "verify", "--data", dir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
