package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/keyring"
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
		sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)).Round(time.Millisecond) }
		fmt.Fprintf(e.stdout, "generated %d records with MACs (keyring audit-mac) in %s (%d heads, each sealed as serve does: MACs checked, the signer's memory advanced)\n",
			res.Records, sec(res.GenerateSec), res.Heads)
		fmt.Fprintf(e.stdout, "verify as `audit verify --since` (leaves, MACs, tree, heads, subtree hashes, memory, the checkpoint of size %d) took %s = %.0f records/s -> 10,000,000 records in %.1f s (%s)\n",
			res.EarlySize, sec(res.VerifySec), res.VerifyPerSec, res.Verify10M, res.Verify10MHow)
		fmt.Fprintf(e.stdout, "the same pass without MACs, memory or checkpoint took %s: the difference is %s (%.0f%%); cpu back to back: one MAC check %.2f µs (x %d records = %s), one Ed25519 verify %.1f µs\n",
			sec(res.VerifyNoMACSec), sec(res.VerifySec-res.VerifyNoMACSec), 100*(res.VerifySec-res.VerifyNoMACSec)/res.VerifyNoMACSec,
			res.MACCheckUS, res.Records, sec(res.MACCheckUS*float64(res.Records)/1e6), res.Ed25519VerifyUS)
		fmt.Fprintf(e.stdout, "checkpoint (signed note, no cosignature) %d bytes; consistency proof from size %d to %d: %d hashes (%d bytes), first %.3f ms, p50 %.3f ms, p99 %.3f ms (200 tries, fresh node cache each)\n",
			res.CheckpointBytes, res.EarlySize, res.Records, res.ConsistencyHashes, 32*res.ConsistencyHashes, res.ConsistencyFirst, res.ConsistencyP50, res.ConsistencyP99)
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
	// VerifyNoMACSec is the same pass without the MAC check, the signer's
	// memory or the checkpoint: what the MACs cost is the difference.
	VerifyNoMACSec  float64 `json:"verify_without_macs_sec"`
	MACCheckUS      float64 `json:"cpu_mac_check_us"`
	Ed25519VerifyUS float64 `json:"cpu_ed25519_verify_us"`
	// The early checkpoint (a signed note) and the consistency proof from
	// it to the last head.
	EarlySize         uint64  `json:"early_checkpoint_size"`
	CheckpointBytes   int     `json:"checkpoint_bytes"`
	ConsistencyHashes int     `json:"consistency_proof_hashes"`
	ConsistencyFirst  float64 `json:"consistency_first_ms"`
	ConsistencyP50    float64 `json:"consistency_p50_ms"`
	ConsistencyP99    float64 `json:"consistency_p99_ms"`
	ProofMean         float64 `json:"inclusion_proof_mean_ms"`
	ProofP99          float64 `json:"inclusion_proof_p99_ms"`
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

// verifyKeys are the disclosure log's keys as serve has them: from a
// keyring sealed under a key-encryption key, in the benchmark's own
// throw-away database (the KEK lives only in memory for the run).
type verifyKeys struct {
	sign ed25519.PrivateKey
	pub  ed25519.PublicKey
	mac  audit.MACKey
}

func benchKeys(ctx context.Context, b *app.Backend) (verifyKeys, error) {
	raw, err := keyring.GenerateKEK()
	if err != nil {
		return verifyKeys{}, err
	}
	kek, err := keyring.NewFileKEK(raw)
	if err != nil {
		return verifyKeys{}, err
	}
	r, err := keyring.Open(ctx, b.Keys, kek, keyring.Options{Source: "the benchmark's key-encryption key"})
	if err != nil {
		return verifyKeys{}, err
	}
	for _, n := range []keyring.Name{keyring.Audit, keyring.AuditMAC} {
		if _, err := r.Ensure(ctx, n, nil); err != nil {
			return verifyKeys{}, err
		}
	}
	sk, err := r.Active(ctx, keyring.Audit)
	if err != nil {
		return verifyKeys{}, err
	}
	mk, err := r.Active(ctx, keyring.AuditMAC)
	if err != nil {
		return verifyKeys{}, err
	}
	mac, err := keyring.AuditMACKey(mk)
	if err != nil {
		return verifyKeys{}, err
	}
	key := sk.Signer.(ed25519.PrivateKey)
	return verifyKeys{sign: key, pub: key.Public().(ed25519.PublicKey), mac: mac}, nil
}

// earlyShare is where the kept checkpoint stands in the log: a month's
// download when the log grows steadily and verify covers about 30 months.
const earlyShare = 30

// benchVerify writes n records straight through the store in large batches
// (the appender's path without callers: each record tagged with its MAC
// under the keyring's audit-mac key, as Log.commit does), sealing every
// sealEvery records as serve's sealer does (MACs checked before signing,
// the signer's memory advanced with each head's checkpoint), and keeps the
// checkpoint of an early head. It then times what `bankbridge audit verify
// --since FILE` does over the whole database, the same without the MAC
// check (the split), and a consistency proof from the early checkpoint to
// the last head (what a customer, partner or witness with that checkpoint
// asks the bank for).
func benchVerify(ctx context.Context, c *app.Config, n, sealEvery int, res *auditBenchResult) error {
	b, err := app.OpenBackend(ctx, c)
	if err != nil {
		return err
	}
	defer b.Close()
	keys, err := benchKeys(ctx, b)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bankbridge-bench-memory-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	mem := &audit.FileMemory{Path: filepath.Join(dir, audit.HeadFile)}
	l := audit.New(b.Audit, audit.Options{Key: keys.sign, MACs: audit.FixedMAC(keys.mac), Memory: mem, SealEvery: time.Hour})
	defer l.Close()
	t0 := time.Now()
	const batch = 10_000
	early := min(n, (n/earlyShare+batch-1)/batch*batch)
	var earlyNote []byte
	tag := keys.mac.Tagger()
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
		if err := b.Audit.Append(ctx, recs, tag); err != nil {
			return err
		}
		if i%sealEvery == 0 || i == n || i == early {
			if _, err := l.Seal(ctx); err != nil {
				return err
			}
			res.Heads++
		}
		if i == early {
			cp, err := l.Checkpoint(ctx)
			if err != nil {
				return err
			}
			earlyNote = []byte(cp.Checkpoint)
		}
	}
	res.Records, res.GenerateSec = n, time.Since(t0).Seconds()
	res.CheckpointBytes = len(earlyNote)

	// What `audit verify --since FILE` does: open the kept checkpoint with
	// the key history, read the signer's memory, then check every leaf,
	// MAC, head, subtree hash and the checkpoint in one pass.
	t1 := time.Now()
	cp, err := audit.OpenCheckpoint(audit.DefaultOrigin, earlyNote, keys.pub)
	if err != nil {
		return err
	}
	last, err := mem.Last(ctx)
	if err != nil {
		return err
	}
	rep, err := audit.VerifyWith(ctx, b.Audit, audit.VerifyOptions{Keys: []ed25519.PublicKey{keys.pub}, MACs: []audit.MACKey{keys.mac},
		Memory: &last, Since: []audit.SignedHead{cp.Head}, MaxUnsigned: time.Minute})
	if err != nil {
		return err
	}
	res.VerifySec = time.Since(t1).Seconds()
	res.VerifyPerSec = float64(n) / res.VerifySec
	res.EarlySize = cp.Head.Size
	extends := fmt.Sprintf("the log extends the checkpoint of size %d", cp.Head.Size)
	res.Verified = rep.OK() && rep.Records == uint64(n) && rep.MACs && rep.Untagged == 0 && rep.Signed == uint64(n) &&
		slices.ContainsFunc(rep.Notes, func(s string) bool { return strings.HasPrefix(s, extends) })
	if n >= 10_000_000 {
		res.Verify10M, res.Verify10MHow = res.VerifySec*10_000_000/float64(n), "measured"
	} else {
		res.Verify10M, res.Verify10MHow = 10_000_000/res.VerifyPerSec, fmt.Sprintf("extrapolated linearly from %d", n)
	}
	if !rep.OK() || !res.Verified {
		fmt.Fprintf(os.Stderr, "verify: %d records, MACs %v, %d untagged, signed %d, notes %q\n", rep.Records, rep.MACs, rep.Untagged, rep.Signed, rep.Notes)
		for _, p := range rep.Problems[:min(5, len(rep.Problems))] {
			fmt.Fprintln(os.Stderr, "PROBLEM:", p)
		}
	}

	// The split: the same pass without MACs, the memory or the checkpoint
	// (what verify did before records had MACs).
	t2 := time.Now()
	if _, err := audit.Verify(ctx, b.Audit, keys.pub); err != nil {
		return err
	}
	res.VerifyNoMACSec = time.Since(t2).Seconds()
	res.MACCheckUS, res.Ed25519VerifyUS = auditCPU(keys)

	// The consistency proof from the early checkpoint to the last head,
	// each try through a fresh log (a cold node cache), checked as a
	// client checks it: the kept note opened, the proof verified against
	// both roots.
	head, err := b.Audit.LatestHead(ctx)
	if err != nil {
		return err
	}
	var lat []time.Duration
	for range 200 {
		t := time.Now()
		cp, err := audit.OpenCheckpoint(audit.DefaultOrigin, earlyNote, keys.pub)
		if err != nil {
			return err
		}
		pl := audit.New(b.Audit, audit.Options{PublicKey: keys.pub})
		p, err := pl.Consistency(ctx, cp.Head.Size, head.Size)
		pl.Close()
		if err != nil {
			return err
		}
		if err := audit.VerifyConsistency(cp.Head.Size, head.Size, cp.Head.Root, head.Root, p.Path); err != nil {
			return fmt.Errorf("the consistency proof from %d to %d: %w", cp.Head.Size, head.Size, err)
		}
		lat = append(lat, time.Since(t))
		res.ConsistencyHashes = len(p.Path)
	}
	first := lat[0]
	s := summarise(lat, time.Second)
	res.ConsistencyFirst, res.ConsistencyP50, res.ConsistencyP99 = ms(first), s.P50, s.P99

	// Inclusion proofs at random leaves of the largest tree, through a
	// fresh log (a cold node cache at first), as /audit/v1/proof serves them.
	pl := audit.New(b.Audit, audit.Options{PublicKey: keys.pub})
	defer pl.Close()
	lat = lat[:0]
	t3 := time.Now()
	for i := range 2000 {
		t := time.Now()
		if _, err := pl.Inclusion(ctx, uint64(i*7919)%uint64(n), uint64(n)); err != nil {
			return err
		}
		lat = append(lat, time.Since(t))
	}
	res.ProofMean = ms(time.Since(t3)) / float64(len(lat))
	res.ProofP99 = summarise(lat, time.Second).P99
	return nil
}

// auditCPU times, back to back, one record's MAC check (an HMAC-SHA256
// over its leaf hash, the work verify adds per record) and one Ed25519
// verification (a signed head), in microseconds: what the CPU gave this
// run, to compare runs on a shared machine.
func auditCPU(keys verifyKeys) (macUS, edUS float64) {
	tag := keys.mac.Tagger()
	var leaf audit.Hash
	const macs = 200_000
	t := time.Now()
	for i := range macs {
		leaf[0], leaf[1], leaf[2] = byte(i), byte(i>>8), byte(i>>16)
		tag(leaf)
	}
	macUS = float64(time.Since(t).Microseconds()) / macs
	msg := []byte("bankbridge.audit\n10000000\n")
	sig := ed25519.Sign(keys.sign, msg)
	const sigs = 2_000
	t = time.Now()
	for range sigs {
		ed25519.Verify(keys.pub, msg, sig)
	}
	edUS = float64(time.Since(t).Microseconds()) / sigs
	return macUS, edUS
}
