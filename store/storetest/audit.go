package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/google/go-cmp/cmp"
)

// AuditExec runs raw SQL on the engine behind a store, with ? placeholders
// (an engine that numbers them rewrites them): the suite tampers with rows
// the way an intruder would, to prove Verify notices.
type AuditExec func(query string, args ...any) error

// AuditOpener opens a fresh, empty audit store for one test and the raw
// SQL access to it.
type AuditOpener func(t testing.TB) (audit.Store, AuditExec)

// Audit runs the audit.Store conformance suite, and the audit.Log over it,
// against the engine open returns.
func Audit(t *testing.T, open AuditOpener) {
	t.Run("AppendAssignsDenseIndexesAndLeafHashes", func(t *testing.T) { t.Parallel(); auditAppend(t, open) })
	t.Run("ConcurrentAppendersStayDense", func(t *testing.T) { t.Parallel(); auditConcurrent(t, open) })
	t.Run("LingerSharesOneCommit", func(t *testing.T) { t.Parallel(); auditLinger(t, open) })
	t.Run("RecordsFilterAndPage", func(t *testing.T) { t.Parallel(); auditRecords(t, open) })
	t.Run("HeadsAndNodes", func(t *testing.T) { t.Parallel(); auditHeads(t, open) })
	t.Run("LogProofsVerify", func(t *testing.T) { t.Parallel(); auditProofs(t, open) })
	t.Run("VerifyNamesTampering", func(t *testing.T) { t.Parallel(); auditTamper(t, open) })
	t.Run("SealRefusesATamperedLog", func(t *testing.T) { t.Parallel(); auditSealRefuses(t, open) })
	t.Run("InsiderRewritesAreCaught", func(t *testing.T) { t.Parallel(); auditInsider(t, open) })
	t.Run("UpgradeToMACsSealsTheUntaggedTail", func(t *testing.T) { t.Parallel(); auditUpgradeToMACs(t, open) })
	t.Run("RetentionKeepsTheLogVerifiable", func(t *testing.T) { t.Parallel(); auditRetention(t, open) })
	t.Run("PostedRecordOutlivesAShortOutage", func(t *testing.T) { t.Parallel(); auditPostedOutage(t, open) })
}

// outage is an audit store that refuses the first fail appends as a
// database refusing connections would (Unavailable).
type outage struct {
	audit.Store
	fail atomic.Int32
}

func (o *outage) Append(ctx context.Context, recs []audit.Record, tag audit.Tagger) error {
	if o.fail.Add(-1) >= 0 {
		return bankbridge.E(bankbridge.Unavailable, "db_unavailable", "too many clients")
	}
	return o.Store.Append(ctx, recs, tag)
}

// auditPostedOutage: a record posted (no caller waits for it) while the
// database refuses appends for longer than a waiting caller's three quick
// tries is written once the database is back, not lost; a caller waiting
// during the outage is told it failed.
func auditPostedOutage(t *testing.T, open AuditOpener) {
	st, _ := open(t)
	o := &outage{Store: st}
	o.fail.Store(8)
	l := audit.New(o, audit.Options{})
	defer l.Close()
	ctx := context.Background()
	if _, err := l.Append(ctx, auditRec(0)); err == nil {
		t.Fatal("a record appended during the outage: no error")
	}
	noErr(t, l.Post(ctx, auditRec(2))) // a consent granted: not a disclosure, which must wait
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := st.Size(ctx)
		noErr(t, err)
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the posted record is not written after the outage: size %d", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := scanAll(t, st); len(got) != 1 || got[0].RequestID != "req-2" {
		t.Fatalf("records after the outage: %+v", got)
	}
}

var auditT0 = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

// auditClock is a settable clock.
type auditClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *auditClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *auditClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func auditRec(i int) audit.Record {
	kinds := []audit.Kind{audit.DataAccess, audit.StaffView, audit.ConsentGranted, audit.PlatformMessage}
	return audit.Record{
		Time: auditT0.Add(time.Duration(i) * time.Second), Kind: kinds[i%len(kinds)],
		Partner: fmt.Sprintf("partner%d", i%3), Consent: fmt.Sprintf("grant-%d", i%5), Customer: bankbridge.CustomerID(1 + i%4),
		Accounts: []ledger.AccountID{ledger.AccountID(10 + i%4), ledger.AccountID(20 + i%4)}, Clusters: []string{"BALANCES", "TRANSACTIONS"},
		Fields: []string{"transactions.amount"}, Purpose: "budgeting", Actor: "partner:partner0", Outcome: audit.OK,
		RequestID: fmt.Sprintf("req-%d", i), Detail: "GET /accounts/{id}/transactions",
	}
}

func auditRecs(from, n int) []audit.Record {
	out := make([]audit.Record, n)
	for i := range out {
		out[i] = auditRec(from + i)
	}
	return out
}

func mustAppend(t testing.TB, st audit.Store, recs []audit.Record) {
	t.Helper()
	noErr(t, st.Append(context.Background(), recs, nil))
}

func scanAll(t testing.TB, st audit.Store) []audit.Record {
	t.Helper()
	var out []audit.Record
	err := st.Scan(context.Background(), 0, math.MaxUint64, func(r *audit.Record) error {
		out = append(out, *r)
		return nil
	})
	noErr(t, err)
	return out
}

func auditAppend(t *testing.T, open AuditOpener) {
	ctx := context.Background()
	st, _ := open(t)
	var want []audit.Record
	for _, n := range []int{1, 3, 700} { // 700 crosses a multi-row insert chunk
		recs := auditRecs(len(want), n)
		mustAppend(t, st, recs)
		want = append(want, recs...)
	}
	for i, r := range want {
		if r.Seq != uint64(i) {
			t.Fatalf("record %d got Seq %d", i, r.Seq)
		}
		if r.LeafHash != r.ComputeLeafHash() {
			t.Fatalf("record %d: LeafHash is not ComputeLeafHash()", i)
		}
	}
	if n, err := st.Size(ctx); err != nil || n != uint64(len(want)) {
		t.Fatalf("Size() = %d, %v; want %d", n, err, len(want))
	}
	got := scanAll(t, st)
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("Scan differs from what was appended (-want +got):\n%s", d)
	}
	hs, err := st.LeafHashes(ctx, 2, 6)
	if err != nil || len(hs) != 4 || hs[0] != want[2].LeafHash || hs[3] != want[5].LeafHash {
		t.Fatalf("LeafHashes(2, 6) = %v, %v", hs, err)
	}
	r, err := st.RecordByLeafHash(ctx, want[77].LeafHash)
	if err != nil || r.Seq != 77 {
		t.Fatalf("RecordByLeafHash = %d, %v; want 77", r.Seq, err)
	}
	if _, err := st.RecordByLeafHash(ctx, audit.HashLeaf([]byte("nope"))); !errors.Is(err, audit.ErrRecordNotFound) {
		t.Fatalf("RecordByLeafHash(unknown) = %v, want ErrRecordNotFound", err)
	}
	// Once a head covers some records a store may look those up another way
	// (SQLite indexes them at the seal): both sides of the head are found.
	_, key, _ := ed25519.GenerateKey(nil)
	noErr(t, st.Seal(ctx, nil, audit.Sign(key, 400, audit.EmptyRoot, auditT0)))
	for _, i := range []int{0, 77, 399, 400, 703} {
		if r, err := st.RecordByLeafHash(ctx, want[i].LeafHash); err != nil || r.Seq != uint64(i) {
			t.Fatalf("after a head of 400, RecordByLeafHash(record %d) = %d, %v", i, r.Seq, err)
		}
	}
	if _, err := st.RecordByLeafHash(ctx, audit.HashLeaf([]byte("nope"))); !errors.Is(err, audit.ErrRecordNotFound) {
		t.Fatalf("after a head, RecordByLeafHash(unknown) = %v, want ErrRecordNotFound", err)
	}
	var part []uint64
	if err := st.Scan(ctx, 700, 702, func(r *audit.Record) error { part = append(part, r.Seq); return nil }); err != nil || !cmp.Equal(part, []uint64{700, 701}) {
		t.Fatalf("Scan(700, 702) = %v, %v", part, err)
	}
}

func auditConcurrent(t *testing.T, open AuditOpener) {
	st, _ := open(t)
	const writers, batches, per = 4, 10, 7
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches)
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				if err := st.Append(context.Background(), auditRecs(w*1000+b*per, per), nil); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := scanAll(t, st)
	if len(got) != writers*batches*per {
		t.Fatalf("%d records, want %d", len(got), writers*batches*per)
	}
	for i, r := range got {
		if r.Seq != uint64(i) || r.LeafHash != r.ComputeLeafHash() {
			t.Fatalf("record %d: Seq %d, leaf hash ok %v", i, r.Seq, r.LeafHash == r.ComputeLeafHash())
		}
	}
}

func auditRecords(t *testing.T, open AuditOpener) {
	ctx := context.Background()
	st, _ := open(t)
	all := auditRecs(0, 40)
	mustAppend(t, st, all)
	seqs := func(p audit.Page) []uint64 {
		var out []uint64
		for _, r := range p.Records {
			out = append(out, r.Seq)
		}
		return out
	}
	for name, c := range map[string]struct {
		q    audit.Query
		want func(audit.Record) bool
	}{
		"Everything": {audit.Query{}, func(audit.Record) bool { return true }},
		"Customer":   {audit.Query{Customer: 2}, func(r audit.Record) bool { return r.Customer == 2 }},
		"Partner":    {audit.Query{Partner: "partner1"}, func(r audit.Record) bool { return r.Partner == "partner1" }},
		"Kind":       {audit.Query{Kind: audit.StaffView}, func(r audit.Record) bool { return r.Kind == audit.StaffView }},
		"TimeRange": {audit.Query{From: auditT0.Add(10 * time.Second), To: auditT0.Add(20 * time.Second)},
			func(r audit.Record) bool { return r.Seq >= 10 && r.Seq < 20 }},
		"CustomerAndPartner": {audit.Query{Customer: 1, Partner: "partner0"}, func(r audit.Record) bool { return r.Customer == 1 && r.Partner == "partner0" }},
	} {
		var want []uint64
		for i := len(all) - 1; i >= 0; i-- {
			if c.want(all[i]) {
				want = append(want, all[i].Seq)
			}
		}
		// Pages of 3, newest first, until Next is 0.
		var got []uint64
		q := c.q
		q.Limit = 3
		for range 100 {
			p, err := st.Records(ctx, q)
			noErr(t, err)
			got = append(got, seqs(p)...)
			if p.Next == 0 {
				break
			}
			q.Before = p.Next
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: pages differ (-want +got):\n%s", name, d)
		}
	}
}

func auditHeads(t *testing.T, open AuditOpener) {
	ctx := context.Background()
	st, _ := open(t)
	if _, err := st.LatestHead(ctx); !errors.Is(err, audit.ErrNoHead) {
		t.Fatalf("LatestHead of an empty log = %v, want ErrNoHead", err)
	}
	_, key, _ := ed25519.GenerateKey(nil)
	r1, r2 := audit.HashLeaf([]byte("1")), audit.HashLeaf([]byte("2"))
	h5 := audit.Sign(key, 5, r1, auditT0)
	nodes := []audit.Node{{Level: 4, Index: 0, Hash: r1}, {Level: 4, Index: 1, Hash: r2}, {Level: 8, Index: 0, Hash: r2}}
	noErr(t, st.Seal(ctx, nodes, h5))
	// Sealing again (another instance) keeps the stored nodes and takes a
	// fresher signature of the same root, but never another root.
	h5b := audit.Sign(key, 5, r1, auditT0.Add(time.Minute))
	noErr(t, st.Seal(ctx, []audit.Node{{Level: 4, Index: 1, Hash: r1}}, h5b))
	noErr(t, st.Seal(ctx, nil, audit.Sign(key, 5, r2, auditT0.Add(2*time.Minute))))
	h9 := audit.Sign(key, 9, r2, auditT0.Add(3*time.Minute))
	noErr(t, st.Seal(ctx, nil, h9))
	got, err := st.Head(ctx, 5)
	noErr(t, err)
	if d := cmp.Diff(h5b, got); d != "" {
		t.Errorf("head 5 (-want +got):\n%s", d)
	}
	if latest, err := st.LatestHead(ctx); err != nil || latest.Size != 9 || latest.Root != r2 {
		t.Errorf("LatestHead = %+v, %v", latest, err)
	}
	if _, err := st.Head(ctx, 6); !errors.Is(err, audit.ErrNoHead) {
		t.Errorf("Head(6) = %v, want ErrNoHead", err)
	}
	var sizes []uint64
	if err := st.Heads(ctx, func(h audit.SignedHead) error { sizes = append(sizes, h.Size); return nil }); err != nil || !cmp.Equal(sizes, []uint64{5, 9}) {
		t.Errorf("Heads = %v, %v", sizes, err)
	}
	hs, err := st.Nodes(ctx, 4, 0, 2)
	if err != nil || !cmp.Equal(hs, []audit.Hash{r1, r2}) {
		t.Errorf("Nodes(4, 0, 2) = %v, %v", hs, err)
	}
	var idx []uint64
	if err := st.ScanNodes(ctx, 4, func(i uint64, _ audit.Hash) error { idx = append(idx, i); return nil }); err != nil || !cmp.Equal(idx, []uint64{0, 1}) {
		t.Errorf("ScanNodes(4) = %v, %v", idx, err)
	}
}

// commitCount counts the store's Append calls: one per commit.
type commitCount struct {
	audit.Store
	n atomic.Int32
}

func (c *commitCount) Append(ctx context.Context, recs []audit.Record, tag audit.Tagger) error {
	c.n.Add(1)
	return c.Store.Append(ctx, recs, tag)
}

// auditLinger: with Options.Linger, a record waits for the next to share
// its commit. The wait is an hour and MaxBatch two, so the first record's
// commit happens only when the second arrives: one commit for both, and
// both come back durable with consecutive indexes.
func auditLinger(t *testing.T, open AuditOpener) {
	st, _ := open(t)
	cc := &commitCount{Store: st}
	_, key, _ := ed25519.GenerateKey(nil)
	l := audit.New(cc, audit.Options{Key: key, SealEvery: time.Hour, MaxBatch: 2, Linger: time.Hour})
	defer l.Close()
	first := make(chan audit.Record, 1)
	go func() {
		r, err := l.Append(context.Background(), auditRec(0))
		if err != nil {
			t.Error(err)
		}
		first <- r
	}()
	second, err := l.Append(context.Background(), auditRec(1))
	noErr(t, err)
	r0 := <-first
	if n := cc.n.Load(); n != 1 {
		t.Errorf("%d commits for two records, want 1", n)
	}
	if lo, hi := min(r0.Seq, second.Seq), max(r0.Seq, second.Seq); lo != 0 || hi != 1 {
		t.Errorf("indexes %d and %d, want 0 and 1", r0.Seq, second.Seq)
	}
}

// newAuditLog is a Log with a key and a clock, sealing only when told.
func newAuditLog(t testing.TB, st audit.Store) (*audit.Log, ed25519.PublicKey, *auditClock) {
	t.Helper()
	pub, key, _ := ed25519.GenerateKey(nil)
	clk := &auditClock{t: auditT0.Add(24 * time.Hour)}
	l := audit.New(st, audit.Options{Key: key, Now: clk.Now, SealEvery: time.Hour, MaxBatch: 64})
	t.Cleanup(l.Close)
	return l, pub, clk
}

func appendVia(t testing.TB, l *audit.Log, from, n int) []audit.Record {
	t.Helper()
	out := make([]audit.Record, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			r, err := l.Append(context.Background(), auditRec(from+i))
			if err != nil {
				errs <- err
			}
			out[i] = r
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

func mustSeal(t testing.TB, l *audit.Log) audit.SignedHead {
	t.Helper()
	h, err := l.Seal(context.Background())
	noErr(t, err)
	return h
}

func auditProofs(t *testing.T, open AuditOpener) {
	ctx := context.Background()
	st, _ := open(t)
	l, pub, clk := newAuditLog(t, st)
	var heads []audit.SignedHead
	var recs []audit.Record
	for _, n := range []int{1, 16, 17, 100, 300} { // sizes 1, 17, 34, 134, 434
		recs = append(recs, appendVia(t, l, len(recs), n)...)
		clk.Add(time.Second)
		heads = append(heads, mustSeal(t, l))
	}
	byHash := map[audit.Hash]audit.Record{}
	for _, r := range recs {
		byHash[r.LeafHash] = r
	}
	for _, h := range heads {
		if err := h.Verify(pub); err != nil {
			t.Fatalf("head %d: %v", h.Size, err)
		}
		for i := uint64(0); i < h.Size; i += 1 + i/7 {
			p, err := l.Inclusion(ctx, i, h.Size)
			noErr(t, err)
			hs, err := st.LeafHashes(ctx, i, i+1)
			noErr(t, err)
			if err := audit.VerifyInclusion(hs[0], i, h.Size, p.Path, h.Root); err != nil {
				t.Fatalf("leaf %d in tree %d: %v", i, h.Size, err)
			}
		}
	}
	for i, a := range heads {
		for _, b := range heads[i:] {
			p, err := l.Consistency(ctx, a.Size, b.Size)
			noErr(t, err)
			if err := audit.VerifyConsistency(a.Size, b.Size, a.Root, b.Root, p.Path); err != nil {
				t.Fatalf("%d -> %d: %v", a.Size, b.Size, err)
			}
		}
	}
	// By hash, against the latest head.
	last := recs[len(recs)-1]
	p, err := l.InclusionByHash(ctx, last.LeafHash, 0)
	if err != nil || audit.VerifyInclusion(last.LeafHash, last.Seq, heads[len(heads)-1].Size, p.Path, heads[len(heads)-1].Root) != nil {
		t.Fatalf("InclusionByHash: %v", err)
	}
	// Past the latest head, or a leaf outside the tree: refused.
	if _, err := l.Inclusion(ctx, 0, heads[len(heads)-1].Size+1); !errors.Is(err, audit.ErrTreeSize) {
		t.Errorf("a tree larger than the latest head: %v", err)
	}
	if _, err := l.InclusionByHash(ctx, last.LeafHash, 1); !errors.Is(err, audit.ErrLeafBeyond) {
		t.Errorf("a leaf beyond the tree: %v", err)
	}
	if _, err := l.Consistency(ctx, 5, 3); !errors.Is(err, audit.ErrTreeSize) {
		t.Errorf("first > second: %v", err)
	}
	// An export for one customer: every entry checks on its own.
	x, err := l.Export(ctx, audit.Query{Customer: 3})
	noErr(t, err)
	if len(x.Entries) != len(recs)/4 {
		t.Fatalf("export has %d entries, want %d", len(x.Entries), len(recs)/4)
	}
	for _, e := range x.Entries {
		if e.Customer != 3 {
			t.Fatalf("export for customer 3 holds a record of %d", e.Customer)
		}
		noErr(t, x.Check(e))
	}
	var js bytes.Buffer
	noErr(t, x.WriteJSON(&js))
	var back audit.Export
	noErr(t, json.Unmarshal(js.Bytes(), &back))
	for _, e := range back.Entries {
		if err := back.Check(e); err != nil {
			t.Fatalf("after a JSON round trip: %v", err)
		}
	}
	var csv bytes.Buffer
	noErr(t, x.WriteCSV(&csv))
	if lines := strings.Count(csv.String(), "\n"); lines != len(x.Entries)+1 {
		t.Errorf("CSV has %d lines, want %d", lines, len(x.Entries)+1)
	}
	rep, err := audit.Verify(ctx, st, pub)
	noErr(t, err)
	if !rep.OK() || rep.Records != uint64(len(recs)) || rep.Heads != len(heads) || rep.Root != heads[len(heads)-1].Root {
		t.Fatalf("Verify of a sound log: %+v", rep)
	}
}

// tamperCase is one intrusion and the words Verify must say about it.
type tamperCase struct {
	name  string
	do    func(t *testing.T, exec AuditExec, st audit.Store)
	words []string
}

func auditTamper(t *testing.T, open AuditOpener) {
	run := func(t *testing.T, exec AuditExec, q string, args ...any) {
		t.Helper()
		if err := exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	cases := []tamperCase{
		{"EditAField", func(t *testing.T, exec AuditExec, _ audit.Store) {
			run(t, exec, `UPDATE audit_records SET purpose = 'advertising' WHERE seq = 21`)
		}, []string{"record 21 ", "edited"}},
		{"EditTheCustomer", func(t *testing.T, exec AuditExec, _ audit.Store) {
			run(t, exec, `UPDATE audit_records SET customer_id = 99 WHERE seq = 3`)
		}, []string{"record 3 ", "edited"}},
		{"DeleteARecord", func(t *testing.T, exec AuditExec, _ audit.Store) {
			run(t, exec, `DELETE FROM audit_records WHERE seq = 30`)
		}, []string{"record 30 is missing", "deleted"}},
		{"DeleteTheNewest", func(t *testing.T, exec AuditExec, _ audit.Store) {
			run(t, exec, `DELETE FROM audit_records WHERE seq = 49`)
			run(t, exec, `UPDATE audit_state SET size = 49`)
		}, []string{"tree head of size 50", "records 49..49 were deleted"}},
		{"ReorderTwoRecords", func(t *testing.T, exec AuditExec, _ audit.Store) {
			run(t, exec, `UPDATE audit_records SET seq = -1 WHERE seq = 7`)
			run(t, exec, `UPDATE audit_records SET seq = 7 WHERE seq = 12`)
			run(t, exec, `UPDATE audit_records SET seq = 12 WHERE seq = -1`)
		}, []string{"record 7 ", "record 12 ", "moved"}},
		{"RewriteFieldsAndLeafHash", func(t *testing.T, exec AuditExec, st audit.Store) {
			// An intruder who knows the encoding rewrites a record and its
			// leaf hash: the signed heads still catch it.
			var r audit.Record
			noErr(t, st.Scan(context.Background(), 40, 41, func(x *audit.Record) error { r = *x; return nil }))
			r.Purpose = "advertising"
			h := r.ComputeLeafHash()
			run(t, exec, `UPDATE audit_records SET purpose = 'advertising', leaf_hash = ?, leaf_key = ? WHERE seq = 40`, h[:], audit.LeafKey(h))
		}, []string{"tree head of size 50", "records 34..49"}},
		{"EditAStoredSubtreeHash", func(t *testing.T, exec AuditExec, _ audit.Store) {
			run(t, exec, `UPDATE audit_nodes SET hash = ? WHERE level = 4 AND idx = 1`, make([]byte, 32))
		}, []string{"level 4, index 1", "records 16..31"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, exec := open(t)
			l, pub, clk := newAuditLog(t, st)
			appendVia(t, l, 0, 34)
			mustSeal(t, l)
			clk.Add(time.Second)
			appendVia(t, l, 34, 16)
			mustSeal(t, l) // heads at 34 and 50
			if rep, err := audit.Verify(ctx, st, pub); err != nil || !rep.OK() {
				t.Fatalf("before tampering: %v %v", err, rep.Problems)
			}
			c.do(t, exec, st)
			rep, err := audit.Verify(ctx, st, pub)
			noErr(t, err)
			if rep.OK() {
				t.Fatal("Verify found nothing wrong after tampering")
			}
			all := strings.Join(rep.Problems, "\n")
			for _, w := range c.words {
				if !strings.Contains(all, w) {
					t.Errorf("no problem mentions %q; problems:\n%s", w, all)
				}
			}
		})
	}
	t.Run("AnotherKey", func(t *testing.T) {
		t.Parallel()
		st, _ := open(t)
		l, _, _ := newAuditLog(t, st)
		appendVia(t, l, 0, 3)
		mustSeal(t, l)
		other, _, _ := ed25519.GenerateKey(nil)
		rep, err := audit.Verify(context.Background(), st, other)
		if err != nil || rep.OK() || !strings.Contains(strings.Join(rep.Problems, "\n"), "signature does not verify") {
			t.Fatalf("heads checked with another key: %v %v", err, rep.Problems)
		}
	})
}

func auditSealRefuses(t *testing.T, open AuditOpener) {
	ctx := context.Background()
	st, exec := open(t)
	l, _, clk := newAuditLog(t, st)
	appendVia(t, l, 0, 20)
	mustSeal(t, l)
	// A second instance seals the same database: it agrees.
	l2, _, _ := newAuditLog(t, st)
	appendVia(t, l2, 20, 5)
	clk.Add(time.Second)
	if _, err := l.Seal(ctx); err != nil {
		t.Fatalf("sealing after another instance: %v", err)
	}
	// Now an intruder rewrites a sealed leaf hash: no instance signs on top.
	noErr(t, exec(`UPDATE audit_records SET leaf_hash = ? WHERE seq = 22`, make([]byte, 32)))
	l3, _, _ := newAuditLog(t, st)
	appendVia(t, l3, 25, 1)
	if _, err := l3.Seal(ctx); !errors.Is(err, audit.ErrTampered) {
		t.Fatalf("Seal over a tampered log = %v, want ErrTampered", err)
	}
}

func auditRetention(t *testing.T, open AuditOpener) {
	ctx := context.Background()
	st, _ := open(t)
	l, pub, clk := newAuditLog(t, st)
	// One at a time, so that leaf order is time order.
	recs := make([]audit.Record, 60)
	for i := range recs {
		r, err := l.Append(ctx, auditRec(i)) // time auditT0 + i seconds
		noErr(t, err)
		recs[i] = r
	}
	clk.Add(time.Second)
	mustSeal(t, l)
	cut := auditT0.Add(25 * time.Second)
	var buf bytes.Buffer
	cp, err := l.Archive(ctx, cut, &buf)
	noErr(t, err)
	if cp.Upto != 25 {
		t.Fatalf("archive up to %d, want 25", cp.Upto)
	}
	var a audit.ArchiveFile
	noErr(t, json.Unmarshal(buf.Bytes(), &a))
	if err := a.Check(pub); err != nil {
		t.Fatalf("the archive does not check: %v", err)
	}
	noErr(t, l.Prune(ctx, cp))
	rep, err := audit.Verify(ctx, st, pub)
	noErr(t, err)
	if !rep.OK() || rep.Pruned != 25 {
		t.Fatalf("Verify after pruning: pruned %d, problems %v", rep.Pruned, rep.Problems)
	}
	p, err := st.Records(ctx, audit.Query{Customer: recs[3].Customer, Limit: 1000})
	noErr(t, err)
	for _, r := range p.Records {
		if r.Seq < 25 {
			t.Fatalf("record %d was pruned but is still listed", r.Seq)
		}
	}
	// The log goes on: a proof for a kept record still verifies.
	clk.Add(time.Second)
	h := mustSeal(t, l)
	pr, err := l.Inclusion(ctx, 40, h.Size)
	if err != nil || audit.VerifyInclusion(recs[40].LeafHash, 40, h.Size, pr.Path, h.Root) != nil {
		t.Fatalf("proof after pruning: %v", err)
	}
	// The second archive starts where the first ended and checks too.
	buf.Reset()
	cp2, err := l.Archive(ctx, auditT0.Add(30*time.Second), &buf)
	noErr(t, err)
	var a2 audit.ArchiveFile
	noErr(t, json.Unmarshal(buf.Bytes(), &a2))
	if a2.From != 25 || a2.Upto != 30 || a2.Check(pub) != nil {
		t.Fatalf("second archive [%d, %d): %v", a2.From, a2.Upto, a2.Check(pub))
	}
	if err := l.Prune(ctx, cp); !errors.Is(err, audit.ErrCheckpoint) {
		t.Errorf("pruning to the same checkpoint twice: %v", err)
	}
	noErr(t, l.Prune(ctx, cp2))
	cps, err := st.Checkpoints(ctx)
	if err != nil || len(cps) != 2 || cps[1].Upto != 30 || cps[1].Head.Verify(pub) != nil {
		t.Fatalf("Checkpoints = %+v, %v", cps, err)
	}
}

// AuditInstances proves that the stores of several instances over one
// database, each with whatever it caches of the log, append to one dense
// log: batches small and large, interleaved, and after a failed append.
// open returns n stores over the same fresh, empty database.
func AuditInstances(t *testing.T, open func(t testing.TB, n int) []audit.Store) {
	const instances, batches = 3, 12
	sts := open(t, instances)
	mustAppend(t, sts[0], auditRecs(0, 2))
	total := 2
	// An append whose context is gone either fails and takes no index, or
	// (an engine that does not interrupt its short appends) succeeds.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sts[0].Append(ctx, auditRecs(2, 3), nil); err == nil {
		total += 3
	}
	var wg sync.WaitGroup
	errs := make(chan error, instances*batches)
	for w, st := range sts {
		sizes := make([]int, batches)
		for b := range sizes {
			sizes[b] = 1 + (w*7+b*3)%9
		}
		if w == 1 {
			sizes[batches/2] = 1500 // beyond any single-statement bound
		}
		for _, n := range sizes {
			total += n
		}
		wg.Go(func() {
			at := 10 + w*100_000
			for _, n := range sizes {
				if err := st.Append(context.Background(), auditRecs(at, n), nil); err != nil {
					errs <- err
				}
				at += n
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, st := range sts {
		if size, err := st.Size(context.Background()); err != nil || size != uint64(total) {
			t.Fatalf("instance %d: Size %d, %v; want %d", i, size, err, total)
		}
	}
	got := scanAll(t, sts[2])
	if len(got) != total {
		t.Fatalf("%d records, want %d", len(got), total)
	}
	for i, r := range got {
		if r.Seq != uint64(i) || r.LeafHash != r.ComputeLeafHash() {
			t.Fatalf("record %d: Seq %d, leaf hash ok %v", i, r.Seq, r.LeafHash == r.ComputeLeafHash())
		}
	}
}
