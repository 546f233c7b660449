package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/bankbridge/bankbridge/rails"
)

// TestBenchRailsSmall runs the rails benchmark small: every scenario
// reports a rate (and the file ones their baseline), and --out leaves a
// NACHA file that reads back with the settled payments' entries.
func TestBenchRailsSmall(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "last.ach")
	var buf bytes.Buffer
	err := run(context.Background(), []string{"bankbridge-bench", "rails", "--json", "--entries", "200", "--runs", "1", "--payments", "20", "--transactions", "3000", "--mirror-accounts", "10", "--ledger-duration", "200ms", "--ledger-clients", "8", "--data", t.TempDir(), "--out", out},
		func(string) string { return "" }, nil, &buf, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]benchRailsResult{}
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var r benchRailsResult
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		seen[r.Scenario] = r
	}
	for _, s := range []string{"ach_build", "ach_parse", "ach_end_to_end", "instant_round_trip"} {
		if r, ok := seen[s]; !ok || r.PerSec <= 0 {
			t.Errorf("scenario %s: %+v", s, r)
		}
	}
	if m := seen["camt053_import"]; m.Transactions != 3000 || m.TxPerSec <= 0 || m.LedgerPerSec <= 0 || m.RatioToLedger <= 0 {
		t.Errorf("camt053_import: %+v", m)
	}
	if seen["ach_build"].Baseline <= 0 || seen["instant_round_trip"].P99 <= 0 {
		t.Errorf("no baseline or no latency: %+v", seen)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	in, err := rails.ParseFile(b)
	if err != nil || in.Entries != 20 {
		t.Fatalf("--out file: %d entries, %v", in.Entries, err)
	}
}
