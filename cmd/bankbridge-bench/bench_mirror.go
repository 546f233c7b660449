package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// benchMirror measures mirror mode's import: a camt.053 message of n
// transactions over accts accounts (statements of n/accts entries, written
// with rails.WriteCamt053 over moov-io/iso20022's types) read whole and
// posted into the ledger, against `bench ledger` (clients transfers at a
// time for d) on the same engine and database, measured in the same run
// just before. The ledger is verified after.
func benchMirror(ctx context.Context, c *app.Config, n, accts, clients int, d time.Duration) (benchRailsResult, error) {
	cleanup, err := benchDatabase(ctx, c)
	if err != nil {
		return benchRailsResult{}, err
	}
	defer cleanup()
	b, err := app.OpenBackend(ctx, c)
	if err != nil {
		return benchRailsResult{}, err
	}
	defer b.Close()
	led := ledger.New(b.Ledger, b.LedgerOptions())
	defer led.Close()
	ids, err := benchAccounts(ctx, b.Ledger, led, accts)
	if err != nil {
		return benchRailsResult{}, err
	}
	base, err := benchTransfers(ctx, led, ids, clients, d, "ordered")
	if err != nil {
		return benchRailsResult{}, err
	}
	// The core's message, in a file as it would arrive.
	dir, err := os.MkdirTemp("", "bankbridge-camt-")
	if err != nil {
		return benchRailsResult{}, err
	}
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "camt053.xml")
	stmts := make([]rails.Statement, accts)
	per := max(n/accts, 1)
	k := 0
	for i := range stmts {
		s := rails.Statement{ID: "S" + strconv.Itoa(i), Seq: 1, Account: ledger.AccountNumber(fmt.Sprintf("B%011d", i)), Currency: "USD",
			Opening: 1_000_000_00, Closing: 1_000_000_00}
		for j := 0; j < per && k < n; j++ {
			a := ledger.Amount(1 + k%997)
			if k%3 == 2 {
				a = -a
			}
			s.Entries = append(s.Entries, rails.StatementEntry{Ref: "E" + strconv.Itoa(k), Amount: a})
			s.Closing += a
			k++
		}
		stmts[i] = s
	}
	f, err := os.Create(name)
	if err != nil {
		return benchRailsResult{}, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = rails.WriteCamt053(w, "BENCH", time.Now(), stmts)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return benchRailsResult{}, err
	}
	stmts = nil
	runtime.GC()
	// Timed: what `bankbridge mirror import FILE` does.
	start := time.Now()
	f, err = os.Open(name)
	if err != nil {
		return benchRailsResult{}, err
	}
	parsed, err := rails.ParseCamt053(bufio.NewReaderSize(f, 1<<20))
	f.Close()
	if err != nil {
		return benchRailsResult{}, err
	}
	m := rails.NewMirror(b.Mirror, b.Ledger, rails.MirrorOptions{AccountByNumber: b.Rails.AccountByNumber})
	res, err := m.Import(ctx, parsed)
	if err != nil {
		return benchRailsResult{}, err
	}
	took := time.Since(start)
	posted := 0
	for _, r := range res {
		posted += r.Posted + r.Replayed
		if r.Refused != 0 {
			return benchRailsResult{}, fmt.Errorf("bench mirror: %d entries refused", r.Refused)
		}
	}
	if posted < k {
		return benchRailsResult{}, fmt.Errorf("bench mirror: %d of %d entries posted", posted, k)
	}
	rep, err := m.Reconcile(ctx)
	if err != nil || rep.Differences != 0 {
		return benchRailsResult{}, fmt.Errorf("bench mirror: reconciliation: %v, %d differences", err, rep.Differences)
	}
	if v, err := b.Ledger.Verify(ctx); err != nil || !v.OK() {
		return benchRailsResult{}, fmt.Errorf("bench mirror: ledger verify: %v %v", err, v.Problems)
	}
	r := benchRailsResult{Scenario: "camt053_import", Engine: b.Engine, Entries: k, Runs: 1, PerSec: rate(k, took), Transactions: k,
		TxPerSec: rate(k, took), LedgerPerSec: base.PerSec, LedgerClients: clients}
	r.RatioToLedger = r.TxPerSec / r.LedgerPerSec
	return r, nil
}
