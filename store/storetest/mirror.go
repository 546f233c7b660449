package storetest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
)

// MirrorOpener opens a fresh database for one test and returns its mirror,
// rails and ledger stores.
type MirrorOpener func(t testing.TB) (rails.MirrorStore, rails.Store, ledger.Store)

// Mirror runs the mirror-mode suite: the core's camt.053 statements
// imported into a real ledger, once, in order, after a crash, and
// reconciled.
func Mirror(t *testing.T, open MirrorOpener) {
	t.Run("ImportsOnceAndReconciles", func(t *testing.T) { t.Parallel(); mirrorOnce(t, open) })
	t.Run("GapIsReportedNotSkipped", func(t *testing.T) { t.Parallel(); mirrorGap(t, open) })
	t.Run("CrashBetweenEntriesResumesWithoutDoubling", func(t *testing.T) { t.Parallel(); mirrorCrash(t, open) })
	t.Run("SameSequenceOtherContentConflicts", func(t *testing.T) { t.Parallel(); mirrorConflict(t, open) })
	t.Run("RefusedEntryIsAnExceptionAndADifference", func(t *testing.T) { t.Parallel(); mirrorRefused(t, open) })
	t.Run("TwoImportersPostEachEntryOnce", func(t *testing.T) { t.Parallel(); mirrorTwoImporters(t, open) })
	t.Run("IntradayEntriesReplayInTheStatement", func(t *testing.T) { t.Parallel(); mirrorIntraday(t, open) })
	t.Run("UnknownAccountPostsNothing", func(t *testing.T) { t.Parallel(); mirrorUnknown(t, open) })
	t.Run("AccountListOpensOnceTwoOpenersAtOnce", func(t *testing.T) { t.Parallel(); mirrorAccountList(t, open) })
}

type mirrorFixture struct {
	t    testing.TB
	ms   rails.MirrorStore
	rs   rails.Store
	ls   ledger.Store
	acct ledger.Account
}

const mirrorNumber = "CORE000123456"

func newMirrorFixture(t testing.TB, open MirrorOpener) *mirrorFixture {
	ms, rs, ls := open(t)
	a, err := ls.CreateAccount(context.Background(), ledger.Account{Customer: 42, Kind: ledger.Checking, Name: "Everyday", Currency: "USD",
		Number: mirrorNumber, Routing: railsRouting, OpenedAt: time.Now()})
	noErr(t, err)
	return &mirrorFixture{t: t, ms: ms, rs: rs, ls: ls, acct: a}
}

func (f *mirrorFixture) mirror(led ledger.Store, batch int) *rails.Mirror {
	return rails.NewMirror(f.ms, led, rails.MirrorOptions{AccountByNumber: f.rs.AccountByNumber, Batch: batch})
}

// statement is seq of the fixture's account: opening, then entries
// (credits positive), closing their sum, round-tripped through a camt.053
// message.
func (f *mirrorFixture) statement(seq int64, opening ledger.Amount, refs []string, amts ...ledger.Amount) rails.Statement {
	f.t.Helper()
	s := rails.Statement{ID: "S" + string(rune('0'+seq)), Seq: seq, Account: mirrorNumber, Currency: "USD", Opening: opening, Closing: opening}
	for i, a := range amts {
		s.Entries = append(s.Entries, rails.StatementEntry{Ref: refs[i], Amount: a, Info: "core " + refs[i]})
		s.Closing += a
	}
	var buf bytes.Buffer
	if err := rails.WriteCamt053(&buf, "MSG"+s.ID, time.Now(), []rails.Statement{s}); err != nil {
		f.t.Fatal(err)
	}
	got, err := rails.ParseCamt053(&buf)
	if err != nil || len(got) != 1 {
		f.t.Fatalf("ParseCamt053: %v (%d)", err, len(got))
	}
	return got[0]
}

func (f *mirrorFixture) balance() ledger.Amount {
	f.t.Helper()
	a, err := f.ls.Account(context.Background(), f.acct.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return a.Balance
}

func (f *mirrorFixture) verify(wantDiff int) rails.MirrorReport {
	f.t.Helper()
	ctx := context.Background()
	rep, err := f.ls.Verify(ctx)
	if err != nil || !rep.OK() {
		f.t.Fatalf("ledger verify: %v %v", err, rep.Problems)
	}
	r, err := f.mirror(f.ls, 0).Reconcile(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	if r.Differences != wantDiff {
		f.t.Fatalf("reconciliation: %d differences, want %d: %+v", r.Differences, wantDiff, r)
	}
	return r
}

func mirrorOnce(t *testing.T, open MirrorOpener) {
	f := newMirrorFixture(t, open)
	ctx := context.Background()
	s1 := f.statement(1, 100_00, []string{"A1", "A2", "A3"}, 50_00, -20_00, 1_25)
	s2 := f.statement(2, s1.Closing, []string{"B1"}, -31_25)
	m := f.mirror(f.ls, 2)
	// Out of order in the call: imported in sequence order.
	res, err := m.Import(ctx, []rails.Statement{s2, s1})
	if err != nil {
		t.Fatalf("Import: %v %+v", err, res)
	}
	if res[0].Seq != 1 || res[0].Outcome != "imported" || res[0].Posted != 4 || res[1].Outcome != "imported" {
		t.Fatalf("results: %+v", res)
	}
	if got := f.balance(); got != s2.Closing || got != 100_00 {
		t.Fatalf("balance %d, the core closed at %d", got, s2.Closing)
	}
	res, err = m.Import(ctx, []rails.Statement{s1, s2})
	if err != nil || res[0].Outcome != "already imported" || res[1].Outcome != "already imported" {
		t.Fatalf("again: %v %+v", err, res)
	}
	if got := f.balance(); got != 100_00 {
		t.Fatalf("the same statements twice moved the balance to %d", got)
	}
	r := f.verify(0)
	if len(r.Accounts) != 1 || r.Accounts[0].Core != 100_00 || r.Accounts[0].Seq != 2 {
		t.Fatalf("report: %+v", r)
	}
	page, err := f.ls.History(ctx, ledger.HistoryQuery{Account: f.acct.ID, Limit: 10})
	if err != nil || len(page.Entries) != 5 {
		t.Fatalf("history: %v, %d entries (take-on and four)", err, len(page.Entries))
	}
}

func mirrorGap(t *testing.T, open MirrorOpener) {
	f := newMirrorFixture(t, open)
	ctx := context.Background()
	s1 := f.statement(1, 0, []string{"A1"}, 10_00)
	s2 := f.statement(2, s1.Closing, []string{"B1"}, 5_00)
	s3 := f.statement(3, s2.Closing, []string{"C1"}, 7_00)
	m := f.mirror(f.ls, 0)
	if _, err := m.Import(ctx, []rails.Statement{s1}); err != nil {
		t.Fatal(err)
	}
	res, err := m.Import(ctx, []rails.Statement{s3})
	if !errors.Is(err, rails.ErrStatementGap) || res[0].Outcome != "gap" {
		t.Fatalf("a gap: %v %+v", err, res)
	}
	if got := f.balance(); got != 10_00 {
		t.Fatalf("statement 3 posted across the gap: balance %d", got)
	}
	if _, err := m.Import(ctx, []rails.Statement{s3, s2}); err != nil {
		t.Fatalf("the gap filled: %v", err)
	}
	if got := f.balance(); got != 22_00 {
		t.Fatalf("balance %d, want 22.00", got)
	}
	f.verify(0)
}

// crashLedger fails Apply after n batches, as a process killed between
// entries would stop.
type crashLedger struct {
	ledger.Store
	mu sync.Mutex
	n  int
}

var errKilled = errors.New("killed")

func (c *crashLedger) Apply(ctx context.Context, ops []ledger.Op, now time.Time) ([]ledger.Result, error) {
	c.mu.Lock()
	c.n--
	dead := c.n < 0
	c.mu.Unlock()
	if dead {
		return nil, errKilled
	}
	return c.Store.Apply(ctx, ops, now)
}

func mirrorCrash(t *testing.T, open MirrorOpener) {
	f := newMirrorFixture(t, open)
	ctx := context.Background()
	refs := []string{"E1", "E2", "E3", "E4", "E5", "E6", "E7"}
	s1 := f.statement(1, 40_00, refs, 1_00, 2_00, -3_00, 4_00, 5_00, -6_00, 7_00)
	// Batches of two: the take-on and E1, then E2 and E3, then killed;
	// the rerun replays those four and posts the other four.
	res, err := f.mirror(&crashLedger{Store: f.ls, n: 2}, 2).Import(ctx, []rails.Statement{s1})
	if !errors.Is(err, errKilled) || res[0].Outcome != "failed" {
		t.Fatalf("the crash: %v %+v", err, res)
	}
	if got := f.balance(); got != 40_00+1_00+2_00-3_00 {
		t.Fatalf("after the crash the balance is %d", got)
	}
	if _, ok, _ := f.ms.LastStatement(ctx, mirrorNumber); ok {
		t.Fatal("a statement half imported is recorded")
	}
	res, err = f.mirror(f.ls, 2).Import(ctx, []rails.Statement{s1})
	if err != nil || res[0].Replayed != 4 || res[0].Posted != 4 {
		t.Fatalf("the rerun: %v %+v", err, res)
	}
	if got := f.balance(); got != s1.Closing {
		t.Fatalf("balance %d after the rerun, the core closed at %d", got, s1.Closing)
	}
	f.verify(0)
}

func mirrorConflict(t *testing.T, open MirrorOpener) {
	f := newMirrorFixture(t, open)
	ctx := context.Background()
	m := f.mirror(f.ls, 0)
	if _, err := m.Import(ctx, []rails.Statement{f.statement(1, 0, []string{"A1"}, 10_00)}); err != nil {
		t.Fatal(err)
	}
	_, err := m.Import(ctx, []rails.Statement{f.statement(1, 0, []string{"A1"}, 11_00)})
	if !errors.Is(err, rails.ErrStatementConflict) {
		t.Fatalf("another statement 1: %v", err)
	}
	if got := f.balance(); got != 10_00 {
		t.Fatalf("balance %d", got)
	}
	f.verify(0)
}

func mirrorRefused(t *testing.T, open MirrorOpener) {
	f := newMirrorFixture(t, open)
	ctx := context.Background()
	// The core let the account go below zero for a moment; the ledger,
	// which knows no overdraft for it, refuses the debit.
	s1 := f.statement(1, 10_00, []string{"D1", "C1"}, -50_00, 100_00)
	res, err := f.mirror(f.ls, 0).Import(ctx, []rails.Statement{s1})
	if err != nil || res[0].Refused != 1 {
		t.Fatalf("Import: %v %+v", err, res)
	}
	r := f.verify(1)
	if d := r.Accounts[0]; d.Core != 60_00 || d.Mirror != 110_00 || d.Difference != 50_00 {
		t.Fatalf("difference: %+v", d)
	}
	if len(r.Exceptions) != 1 || r.Exceptions[0].Ref != "D1" || r.Exceptions[0].Code != "insufficient_funds" {
		t.Fatalf("exceptions: %+v", r.Exceptions)
	}
}

func mirrorTwoImporters(t *testing.T, open MirrorOpener) {
	f := newMirrorFixture(t, open)
	ctx := context.Background()
	refs := []string{"A1", "A2", "A3", "A4", "A5", "A6"}
	s1 := f.statement(1, 5_00, refs, 1_00, 2_00, 3_00, 4_00, 5_00, 6_00)
	s2 := f.statement(2, s1.Closing, []string{"B1", "B2"}, -7_00, 8_00)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = f.mirror(f.ls, 1).Import(ctx, []rails.Statement{s1, s2})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		// The later importer may find the take-on or a statement recorded
		// by the other: never an error of money.
		if err != nil {
			t.Fatalf("importer: %v", err)
		}
	}
	if got := f.balance(); got != s2.Closing {
		t.Fatalf("balance %d, the core closed at %d", got, s2.Closing)
	}
	f.verify(0)
}

func mirrorUnknown(t *testing.T, open MirrorOpener) {
	f := newMirrorFixture(t, open)
	s := f.statement(1, 0, []string{"A1"}, 10_00)
	s.Account = "NOSUCHACCOUNT1"
	_, err := f.mirror(f.ls, 0).Import(context.Background(), []rails.Statement{s})
	if !errors.Is(err, rails.ErrMirrorAccount) {
		t.Fatalf("unknown account: %v", err)
	}
	if r := f.verify(0); len(r.Accounts) != 0 {
		t.Fatalf("report: %+v", r)
	}
}

func mirrorIntraday(t *testing.T, open MirrorOpener) {
	f := newMirrorFixture(t, open)
	ctx := context.Background()
	m := f.mirror(f.ls, 0)
	notify := func(refs []string, amts ...ledger.Amount) rails.Statement {
		n := rails.Statement{ID: "N-" + refs[0], Account: mirrorNumber, Currency: "USD"}
		for i, a := range amts {
			n.Entries = append(n.Entries, rails.StatementEntry{Ref: refs[i], Amount: a, Info: "core " + refs[i]})
		}
		var buf bytes.Buffer
		noErr(t, rails.WriteCamt054(&buf, "MSG"+n.ID, time.Now(), []rails.Statement{n}))
		got, err := rails.ParseCore(&buf)
		if err != nil || len(got) != 1 || !got[0].Intraday {
			t.Fatalf("ParseCore: %v %+v", err, got)
		}
		return got[0]
	}
	// Before the account's first statement an intraday entry waits.
	n0 := notify([]string{"N0"}, 1_00)
	if _, err := m.Import(ctx, []rails.Statement{n0}); !errors.Is(err, rails.ErrStatementGap) {
		t.Fatalf("intraday before take-on: %v", err)
	}
	s1 := f.statement(1, 20_00, []string{"A1"}, 5_00)
	if _, err := m.Import(ctx, []rails.Statement{s1}); err != nil {
		t.Fatal(err)
	}
	n1 := notify([]string{"N1", "N2"}, 3_00, -2_00)
	res, err := m.Import(ctx, []rails.Statement{n1, n1})
	if err != nil || res[0].Posted != 2 || res[1].Replayed != 2 {
		t.Fatalf("intraday: %v %+v", err, res)
	}
	if got := f.balance(); got != 26_00 {
		t.Fatalf("balance after the intraday entries %d", got)
	}
	s2 := f.statement(2, s1.Closing, []string{"N1", "N2", "B3"}, 3_00, -2_00, 4_00)
	res, err = m.Import(ctx, []rails.Statement{s2})
	if err != nil || res[0].Replayed != 2 || res[0].Posted != 1 {
		t.Fatalf("the day's statement: %v %+v", err, res)
	}
	if got := f.balance(); got != s2.Closing {
		t.Fatalf("balance %d, the core closed at %d", got, s2.Closing)
	}
	f.verify(0)
	// An intraday account report (camt.052) posts its booked entries the
	// same way; the same entry in a camt.054 afterwards replays.
	rpt := rails.Statement{ID: "R-1", Account: mirrorNumber, Currency: "USD", Opening: s2.Closing, HasOpening: true,
		Entries: []rails.StatementEntry{{Ref: "C1", Amount: 7_00, Info: "core C1"}}}
	var buf bytes.Buffer
	if err := rails.WriteCamt052(&buf, "RPT1", time.Now(), []rails.Statement{rpt}); err != nil {
		t.Fatal(err)
	}
	got, err := rails.ParseCore(&buf)
	if err != nil || len(got) != 1 || !got[0].Intraday {
		t.Fatalf("camt.052: %v %+v", err, got)
	}
	if res, err := m.Import(ctx, got); err != nil || res[0].Posted != 1 {
		t.Fatalf("camt.052 import: %v %+v", err, res)
	}
	if res, err := m.Import(ctx, []rails.Statement{notify([]string{"C1"}, 7_00)}); err != nil || res[0].Replayed != 1 {
		t.Fatalf("the same entry in a camt.054: %v %+v", err, res)
	}
	if got := f.balance(); got != s2.Closing+7_00 {
		t.Fatalf("balance %d after the report", got)
	}
	f.verify(1) // ahead of the core's last closing balance until the day's statement
}
