package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
)

// benchAudit measures what the audit log costs its callers and how fast the
// whole log verifies. See docs/audit.md for the figures and how to read them.
func benchAudit(ctx context.Context, e env, args []string) error {
	var c app.Config
	fs := flag.NewFlagSet("bench audit", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	clients := fs.Int("clients", 64, "concurrent callers appending records")
	duration := fs.Duration("duration", 5*time.Second, "how long each latency phase runs")
	work := fs.Duration("work", 2*time.Millisecond, "the data call's own work that Start/Wait overlaps with the commit")
	records := fs.Int("records", 1_000_000, "records to generate and verify (0 skips the verify phase)")
	sealEvery := fs.Int("seal-every", 50_000, "records between two signed heads while generating")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := app.Parse(fs, args, &c); err != nil {
		return err
	}
	if *clients < 1 || *duration <= 0 || *records < 0 || *sealEvery < 1 {
		return app.UsageError("--clients at least 1, --duration positive, --records and --seal-every not negative")
	}
	res := auditBenchResult{Clients: *clients, Work: ms(*work)}
	// Latency on a fresh database.
	{
		cleanup, err := benchDatabase(ctx, &c)
		if err != nil {
			return err
		}
		err = func() error {
			b, err := app.OpenBackend(ctx, &c)
			if err != nil {
				return err
			}
			defer b.Close()
			res.Engine = b.Engine
			_, key, _ := ed25519.GenerateKey(nil)
			l := audit.New(b.Audit, audit.Options{Key: key})
			defer l.Close()
			if res.Single, err = benchAppend(ctx, l, 1, *duration, 0); err != nil {
				return err
			}
			if res.Concurrent, err = benchAppend(ctx, l, *clients, *duration, 0); err != nil {
				return err
			}
			if res.Overlapped, err = benchAppend(ctx, l, *clients, *duration, *work); err != nil {
				return err
			}
			if res.Posted, err = benchPost(ctx, l, *clients, *duration); err != nil {
				return err
			}
			return nil
		}()
		cleanup()
		if err != nil {
			return err
		}
	}
	if *records > 0 {
		cleanup, err := benchDatabase(ctx, &c)
		if err != nil {
			return err
		}
		err = benchVerify(ctx, &c, *records, *sealEvery, &res)
		cleanup()
		if err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(res)
	}
	fmt.Fprintf(e.stdout, "engine=%s\n", res.Engine)
	for _, p := range []struct {
		name string
		l    latency
	}{{"append, 1 caller (durable)", res.Single}, {fmt.Sprintf("append, %d callers (durable)", res.Clients), res.Concurrent},
		{fmt.Sprintf("start+wait overlapping %.1f ms of work, %d callers: added", res.Work, res.Clients), res.Overlapped},
		{fmt.Sprintf("post (fire-and-forget), %d callers", res.Clients), res.Posted}} {
		fmt.Fprintf(e.stdout, "%-66s records/s=%-8.0f p50=%.3fms p99=%.3fms p99.9=%.3fms\n", p.name, p.l.PerSec, p.l.P50, p.l.P99, p.l.P999)
	}
	if *records > 0 {
		fmt.Fprintf(e.stdout, "generated %d records in %s (%d heads); verify took %s = %.0f records/s -> 10,000,000 records in %.1f s (%s)\n",
			res.Records, time.Duration(res.GenerateSec*float64(time.Second)).Round(time.Millisecond), res.Heads,
			time.Duration(res.VerifySec*float64(time.Second)).Round(time.Millisecond), res.VerifyPerSec, res.Verify10M, res.Verify10MHow)
		fmt.Fprintf(e.stdout, "inclusion proof in the tree of %d: mean %.3f ms, p99 %.3f ms (2000 random leaves, fresh cache)\n", res.Records, res.ProofMean, res.ProofP99)
		if !res.Verified {
			return errors.New("audit verify failed after the benchmark")
		}
	}
	return nil
}

type latency struct {
	Calls  int     `json:"calls"`
	PerSec float64 `json:"records_per_sec"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
	P999   float64 `json:"p999_ms"`
}

type auditBenchResult struct {
	Engine       string  `json:"engine"`
	Clients      int     `json:"clients"`
	Work         float64 `json:"work_ms"`
	Single       latency `json:"append_single"`
	Concurrent   latency `json:"append_concurrent"`
	Overlapped   latency `json:"start_wait_added"`
	Posted       latency `json:"post"`
	Records      int     `json:"records"`
	Heads        int     `json:"heads"`
	GenerateSec  float64 `json:"generate_sec"`
	VerifySec    float64 `json:"verify_sec"`
	VerifyPerSec float64 `json:"verify_records_per_sec"`
	Verify10M    float64 `json:"verify_10m_sec"`
	Verify10MHow string  `json:"verify_10m_how"`
	Verified     bool    `json:"verified"`
	ProofMean    float64 `json:"inclusion_proof_mean_ms"`
	ProofP99     float64 `json:"inclusion_proof_p99_ms"`
}

func benchRecord(i int, requestID string) audit.Record {
	return audit.Record{Kind: audit.DataAccess, Partner: "budgetapp", Consent: "3q2+7w8BAgMEBQYHCAkKCw", Customer: bankbridge.CustomerID(1 + i%100_000),
		Accounts: []ledger.AccountID{ledger.AccountID(10 + i%7), ledger.AccountID(20 + i%5)}, Clusters: []string{"BALANCES", "TRANSACTIONS"},
		Purpose: "show the customer's budget", Actor: "partner:budgetapp", RequestID: requestID, Detail: "GET /fdx/v6/accounts/{id}/transactions"}
}

func summarise(lat []time.Duration, elapsed time.Duration) latency {
	if len(lat) == 0 {
		return latency{}
	}
	slices.Sort(lat)
	return latency{Calls: len(lat), PerSec: float64(len(lat)) / elapsed.Seconds(),
		P50: ms(quantile(lat, 1, 2)), P99: ms(quantile(lat, 99, 100)), P999: ms(quantile(lat, 999, 1000))}
}

// benchAppend runs clients callers for d. With work == 0 each times Append
// (the whole durable write). With work > 0 each does what a data call
// does: Start the record, do work (here a sleep standing for reading the
// data and encoding the answer), then Wait; the time measured is what the
// Wait adds after the work, i.e. what the audit adds to the call.
func benchAppend(ctx context.Context, l *audit.Log, clients int, d, work time.Duration) (latency, error) {
	lats := make([][]time.Duration, clients)
	errs := make([]error, clients)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				rec := benchRecord(i, fmt.Sprintf("%d-%d", c, i))
				var err error
				var t0 time.Time
				if work == 0 {
					t0 = time.Now()
					_, err = l.Append(ctx, rec)
				} else {
					p := l.Start(ctx, rec)
					time.Sleep(work)
					t0 = time.Now()
					_, err = p.Wait(ctx)
				}
				if err != nil {
					errs[c] = err
					return
				}
				lats[c] = append(lats[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return latency{}, err
	}
	return summarise(slices.Concat(lats...), time.Since(start)), nil
}

// benchPost times Post, which returns once the record is queued.
func benchPost(ctx context.Context, l *audit.Log, clients int, d time.Duration) (latency, error) {
	lats := make([][]time.Duration, clients)
	errs := make([]error, clients)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				rec := benchRecord(i, fmt.Sprintf("p%d-%d", c, i))
				rec.Kind, rec.Customer, rec.Accounts, rec.Clusters = audit.ConsentUsed, 0, nil, nil
				t0 := time.Now()
				if err := l.Post(ctx, rec); err != nil {
					errs[c] = err
					return
				}
				lats[c] = append(lats[c], time.Since(t0))
				// A caller of Post does other work between events; without
				// a pause the queue fills and Post measures the disk.
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return latency{}, err
	}
	return summarise(slices.Concat(lats...), time.Since(start)), nil
}

// benchVerify writes n records straight through the store in large batches
// (the appender's path without callers), sealing every sealEvery records,
// then times audit.Verify over the whole database.
func benchVerify(ctx context.Context, c *app.Config, n, sealEvery int, res *auditBenchResult) error {
	b, err := app.OpenBackend(ctx, c)
	if err != nil {
		return err
	}
	defer b.Close()
	pub, key, _ := ed25519.GenerateKey(nil)
	l := audit.New(b.Audit, audit.Options{Key: key, SealEvery: time.Hour})
	defer l.Close()
	t0 := time.Now()
	const batch = 10_000
	recs := make([]audit.Record, 0, batch)
	at := time.Now().Add(-time.Duration(n) * time.Millisecond).UTC()
	for i := 0; i < n; {
		recs = recs[:0]
		for ; len(recs) < batch && i < n; i++ {
			r := benchRecord(i, fmt.Sprintf("%016x", i))
			r.Time = time.UnixMicro(at.Add(time.Duration(i) * time.Millisecond).UnixMicro()).UTC()
			r.Outcome = audit.OK
			recs = append(recs, r)
		}
		if err := b.Audit.Append(ctx, recs, nil); err != nil {
			return err
		}
		if i%sealEvery == 0 || i == n {
			if _, err := l.Seal(ctx); err != nil {
				return err
			}
			res.Heads++
		}
	}
	res.Records, res.GenerateSec = n, time.Since(t0).Seconds()
	t1 := time.Now()
	rep, err := audit.Verify(ctx, b.Audit, pub)
	if err != nil {
		return err
	}
	res.VerifySec = time.Since(t1).Seconds()
	res.VerifyPerSec = float64(n) / res.VerifySec
	res.Verified = rep.OK() && rep.Records == uint64(n)
	if n >= 10_000_000 {
		res.Verify10M, res.Verify10MHow = res.VerifySec*10_000_000/float64(n), "measured"
	} else {
		res.Verify10M, res.Verify10MHow = 10_000_000/res.VerifyPerSec, fmt.Sprintf("extrapolated linearly from %d", n)
	}
	// Inclusion proofs at random leaves of the largest tree, through a
	// fresh log (a cold node cache at first), as /audit/v1/proof serves them.
	pl := audit.New(b.Audit, audit.Options{PublicKey: pub})
	defer pl.Close()
	var lat []time.Duration
	t2 := time.Now()
	for i := range 2000 {
		t := time.Now()
		if _, err := pl.Inclusion(ctx, uint64(i*7919)%uint64(n), uint64(n)); err != nil {
			return err
		}
		lat = append(lat, time.Since(t))
	}
	res.ProofMean = ms(time.Since(t2)) / float64(len(lat))
	res.ProofP99 = summarise(lat, time.Second).P99
	if !rep.OK() {
		for _, p := range rep.Problems[:min(5, len(rep.Problems))] {
			fmt.Println("PROBLEM:", p)
		}
	}
	return nil
}
