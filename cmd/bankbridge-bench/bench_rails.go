package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
	"github.com/moov-io/ach"
)

// benchRailsResult is one scenario of bench rails.
type benchRailsResult struct {
	Scenario string  `json:"scenario"`
	Engine   string  `json:"engine,omitempty"`
	Entries  int     `json:"entries"`
	Runs     int     `json:"runs"`
	PerSec   float64 `json:"entries_per_sec"`
	// Baseline is moov-io/ach doing the same work by itself (building the
	// same entries with its API alone, or reading the same file), measured
	// in the same run, interleaved; Ratio is ours over it.
	Baseline float64 `json:"baseline_entries_per_sec,omitempty"`
	Ratio    float64 `json:"ratio_to_baseline,omitempty"`
	P50      float64 `json:"p50_ms,omitempty"`
	P99      float64 `json:"p99_ms,omitempty"`
	// The camt.053 import: transactions read and posted per second, and
	// `bench ledger` on the same engine and database in the same run
	// (LedgerClients transfers in flight), with the ratio of the two.
	Transactions  int     `json:"transactions,omitempty"`
	TxPerSec      float64 `json:"transactions_per_sec,omitempty"`
	LedgerPerSec  float64 `json:"ledger_transfers_per_sec,omitempty"`
	LedgerClients int     `json:"ledger_clients,omitempty"`
	RatioToLedger float64 `json:"ratio_to_ledger,omitempty"`
}

// benchRails measures ACH origination: building and parsing NACHA files
// (beside moov-io/ach alone on the same entries), and payments end to end
// through the service, the database and the emulator (hold, file, send,
// settlement). With --out it leaves the last file it originated there.
func benchRails(ctx context.Context, e env, args []string) error {
	var c app.Config
	fs := flag.NewFlagSet("bench rails", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	entries := fs.Int("entries", 10_000, "entries per file built and parsed")
	runs := fs.Int("runs", 5, "timed runs of each scenario, interleaved with the baseline")
	payments := fs.Int("payments", 2_000, "payments end to end through the service and the emulator")
	out := fs.String("out", "", "write the last NACHA file originated to this file")
	txs := fs.Int("transactions", 1_000_000, "transactions in the camt.053 message mirror mode imports (0: skip the scenario)")
	mirrorAccts := fs.Int("mirror-accounts", 1000, "accounts the camt.053 message has a statement for")
	ledgerClients := fs.Int("ledger-clients", 256, "transfers in flight in the ledger baseline of the import (as bench ledger --clients)")
	ledgerFor := fs.Duration("ledger-duration", 5*time.Second, "how long the ledger baseline of the import runs")
	asJSON := fs.Bool("json", false, "print one JSON object per scenario")
	if err := app.Parse(fs, args, &c); err != nil {
		return err
	}
	if *entries < 1 || *runs < 1 || *payments < 1 || *txs < 0 || *mirrorAccts < 2 || *ledgerClients < 1 || *ledgerFor <= 0 {
		return app.UsageError("--entries, --runs, --payments and --ledger-clients must be at least 1, --mirror-accounts at least 2, --transactions not negative, --ledger-duration positive")
	}
	o := rails.Origin{Routing: "021000089"}
	now := time.Now()
	ps := make([]rails.Payment, *entries)
	for i := range ps {
		ps[i] = rails.Payment{ID: rails.PaymentID(i + 1), Kind: rails.KindCredit, Amount: ledger.Amount(1_00 + i%10_000), Name: "RECEIVER " + strconv.Itoa(i),
			Routing: "231380104", Number: ledger.AccountNumber(strconv.Itoa(100_000_000 + i)), Type: rails.Checking, Effective: now.Truncate(24 * time.Hour)}
		ps[i].Trace = rails.Trace(o.Routing, ps[i].ID)
	}
	var file []byte
	var build, buildBase, parse, parseBase []float64
	// Each timed section starts after a collection, and the order of ours
	// and the baseline's alternates, so neither pays for the other's garbage.
	timed := func(f func() error) (float64, error) {
		runtime.GC()
		t := time.Now()
		err := f()
		return rate(*entries, time.Since(t)), err
	}
	for i := range *runs {
		steps := []struct {
			to *[]float64
			f  func() error
		}{
			{&build, func() error { b, err := rails.BuildFile(o, now, "A", ps); file = b; return err }},
			{&buildBase, func() error { _, err := moovBuild(ps); return err }},
		}
		parseSteps := []struct {
			to *[]float64
			f  func() error
		}{
			{&parse, func() error { _, err := rails.ParseFile(file); return err }},
			{&parseBase, func() error {
				f, err := ach.NewReader(bytes.NewReader(file)).Read()
				if err == nil {
					err = f.Validate()
				}
				return err
			}},
		}
		if i%2 == 1 {
			slices.Reverse(steps)
			slices.Reverse(parseSteps)
		}
		for _, st := range append(steps, parseSteps...) {
			r, err := timed(st.f)
			if err != nil {
				return err
			}
			*st.to = append(*st.to, r)
		}
	}
	res := []benchRailsResult{
		{Scenario: "ach_build", Entries: *entries, Runs: *runs, PerSec: median(build), Baseline: median(buildBase)},
		{Scenario: "ach_parse", Entries: *entries, Runs: *runs, PerSec: median(parse), Baseline: median(parseBase)},
	}
	e2e, last, err := benchRailsEndToEnd(ctx, &c, *payments)
	if err != nil {
		return err
	}
	res = append(res, e2e...)
	if *txs > 0 {
		mr, err := benchMirror(ctx, &c, *txs, *mirrorAccts, *ledgerClients, *ledgerFor)
		if err != nil {
			return err
		}
		res = append(res, mr)
	}
	if *out != "" {
		if err := os.WriteFile(*out, last, 0o644); err != nil {
			return err
		}
	}
	for i := range res {
		if res[i].Baseline > 0 {
			res[i].Ratio = res[i].PerSec / res[i].Baseline
		}
		if *asJSON {
			if err := json.NewEncoder(e.stdout).Encode(res[i]); err != nil {
				return err
			}
			continue
		}
		r := res[i]
		fmt.Fprintf(e.stdout, "%-16s %8d entries  %10.0f entries/s", r.Scenario, r.Entries, r.PerSec)
		if r.Baseline > 0 {
			fmt.Fprintf(e.stdout, "  (moov-io/ach alone %.0f/s, ratio %.2f)", r.Baseline, r.Ratio)
		}
		if r.LedgerPerSec > 0 {
			fmt.Fprintf(e.stdout, "  (bench ledger on %s in the same run %.0f transfers/s, ratio %.2f)", r.Engine, r.LedgerPerSec, r.RatioToLedger)
		}
		if r.P50 > 0 {
			fmt.Fprintf(e.stdout, "  each p50 %.2f ms p99 %.2f ms on %s", r.P50, r.P99, r.Engine)
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// moovBuild builds and writes the file of ps with moov-io/ach alone: the
// baseline of rails.BuildFile.
func moovBuild(ps []rails.Payment) ([]byte, error) {
	fh := ach.NewFileHeader()
	fh.ImmediateDestination, fh.ImmediateOrigin = "011000015", "021000089"
	fh.FileCreationDate, fh.FileCreationTime, fh.FileIDModifier = time.Now().Format("060102"), "1200", "A"
	fh.ImmediateDestinationName, fh.ImmediateOriginName = "FEDERAL RESERVE BANK", "BANKBRIDGE"
	bh := ach.NewBatchHeader()
	bh.ServiceClassCode, bh.CompanyName, bh.CompanyIdentification = ach.CreditsOnly, "BANKBRIDGE", "1021000089"
	bh.StandardEntryClassCode, bh.CompanyEntryDescription = ach.PPD, "PAYMENT"
	bh.EffectiveEntryDate, bh.ODFIIdentification = time.Now().Format("060102"), "02100008"
	b := ach.NewBatchPPD(bh)
	for _, p := range ps {
		ed := ach.NewEntryDetail()
		ed.TransactionCode = ach.CheckingCredit
		ed.SetRDFI(p.Routing)
		ed.DFIAccountNumber, ed.Amount, ed.IndividualName, ed.TraceNumber = string(p.Number), int(p.Amount), p.Name, p.Trace
		b.AddEntry(ed)
	}
	if err := b.Create(); err != nil {
		return nil, err
	}
	f := ach.NewFile()
	f.SetHeader(fh)
	f.AddBatch(b)
	if err := f.Create(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err := ach.NewWriter(&buf).Write(f)
	return buf.Bytes(), err
}

// benchRailsEndToEnd pays n payees from n/10 funded accounts through the
// service on a throw-away database (p50/p99 of Pay: screen, hold, record),
// then originates, sends and settles them through the emulator; the rate
// is payments from the first Pay to the last settled.
func benchRailsEndToEnd(ctx context.Context, c *app.Config, n int) ([]benchRailsResult, []byte, error) {
	cleanup, err := benchDatabase(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	defer cleanup()
	b, err := app.OpenBackend(ctx, c)
	if err != nil {
		return nil, nil, err
	}
	defer b.Close()
	led := ledger.New(b.Ledger, b.LedgerOptions())
	defer led.Close()
	sim := railsim.New(railsim.Options{})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	tr := &railsim.Client{Base: srv.URL, Routing: "021000089"}
	svc := rails.New(b.Rails, led, rails.Options{Origin: rails.Origin{Routing: "021000089"}, Screener: rails.MustSample(), Instant: tr})
	accts, err := benchAccounts(ctx, b.Ledger, led, max(n/10, 2))
	if err != nil {
		return nil, nil, err
	}
	payees := make([]rails.Payee, len(accts))
	for i, a := range accts {
		acct, err := b.Ledger.Account(ctx, a)
		if err != nil {
			return nil, nil, err
		}
		payees[i], err = svc.AddPayee(ctx, rails.Payee{Customer: acct.Customer, Name: "PAYEE " + strconv.Itoa(i), Nickname: "p" + strconv.Itoa(i),
			Routing: "231380104", Number: ledger.AccountNumber(strconv.Itoa(200_000_000 + i))})
		if err != nil {
			return nil, nil, err
		}
	}
	lat := make([]time.Duration, 0, n)
	start := time.Now()
	for i := range n {
		k := i % len(accts)
		t := time.Now()
		if _, err := svc.Pay(ctx, rails.PayRequest{Customer: payees[k].Customer, Payee: payees[k].ID, From: accts[k], Amount: 1_00,
			Channel: "bench", Key: "b" + strconv.Itoa(i)}); err != nil {
			return nil, nil, fmt.Errorf("pay %d: %w", i, err)
		}
		lat = append(lat, time.Since(t))
	}
	if err := svc.Cycle(ctx, tr); err != nil {
		return nil, nil, err
	}
	took := time.Since(start)
	settled, err := b.Rails.Payments(ctx, rails.PaymentQuery{Status: []rails.Status{rails.StatusSettled}, Limit: n + 1})
	if err != nil {
		return nil, nil, err
	}
	if len(settled) != n {
		return nil, nil, fmt.Errorf("bench rails: %d of %d payments settled", len(settled), n)
	}
	rep, err := b.Ledger.Verify(ctx)
	if err != nil || !rep.OK() {
		return nil, nil, fmt.Errorf("bench rails: ledger verify: %v %v", err, rep.Problems)
	}
	files, err := b.Rails.Files(ctx, rails.FileQuery{Direction: rails.DirOut, Limit: 1})
	if err != nil || len(files) == 0 {
		return nil, nil, fmt.Errorf("bench rails: no file: %v", err)
	}
	f, err := b.Rails.File(ctx, files[0].ID)
	if err != nil {
		return nil, nil, err
	}
	slices.Sort(lat)
	res := []benchRailsResult{{Scenario: "ach_end_to_end", Engine: b.Engine, Entries: n, Runs: 1, PerSec: rate(n, took),
		P50: ms(quantile(lat, 50, 100)), P99: ms(quantile(lat, 99, 100))}}
	// Instant payments, one after another: screen, hold, pacs.008 over
	// loopback HTTP to the emulator, its pacs.002, the hold posted.
	lat = lat[:0]
	start = time.Now()
	for i := range n {
		k := i % len(accts)
		t := time.Now()
		p, err := svc.PayInstant(ctx, rails.PayRequest{Customer: payees[k].Customer, Payee: payees[k].ID, From: accts[k], Amount: 1_00,
			Channel: "bench", Key: "i" + strconv.Itoa(i)})
		if err != nil || p.Status != rails.StatusSettled {
			return nil, nil, fmt.Errorf("instant %d: %v %v", i, p.Status, err)
		}
		lat = append(lat, time.Since(t))
	}
	took = time.Since(start)
	slices.Sort(lat)
	res = append(res, benchRailsResult{Scenario: "instant_round_trip", Engine: b.Engine, Entries: n, Runs: 1, PerSec: rate(n, took),
		P50: ms(quantile(lat, 50, 100)), P99: ms(quantile(lat, 99, 100))})
	if rep, err := b.Ledger.Verify(ctx); err != nil || !rep.OK() {
		return nil, nil, fmt.Errorf("bench rails: ledger verify after instant payments: %v %v", err, rep.Problems)
	}
	return res, f.Body, nil
}
