package storetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
	"github.com/moov-io/ach"
)

// Dishonoured and contested returns (rails/dishonor.go) through the
// emulator, on both engines; the books and the operator's position agree
// after each step.

// clock is a settable time shared by the bank and the emulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newDishonorFixture is a rails fixture whose bank runs on bank and whose
// emulator on sim (nil: the bank's clock).
func newDishonorFixture(t *testing.T, open RailsOpener, bank, sim *clock) *railsFixture {
	if sim == nil {
		sim = bank
	}
	f := newRailsFixture(t, open, railsim.Options{Now: sim.Now})
	f.svc = rails.New(f.st, f.led, rails.Options{Origin: rails.Origin{Routing: railsRouting}, Screener: rails.MustSample(), Instant: f.tr, Now: bank.Now})
	return f
}

// monday is a banking day, mid-afternoon Eastern.
var monday = time.Date(2026, 3, 2, 19, 0, 0, 0, time.UTC)

// entryOf finds the inbound entry of kind about trace.
func (f *railsFixture) entryOf(kind rails.EntryKind, trace string) rails.Entry {
	f.t.Helper()
	es, err := f.st.Entries(context.Background(), rails.EntryQuery{Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, e := range es {
		if e.Kind == kind && e.Trace == trace {
			return e
		}
	}
	f.t.Fatalf("no %s entry of %s among %+v", kind, trace, es)
	return rails.Entry{}
}

// exceptionsOf lists the bank's dishonours or contests.
func (f *railsFixture) exceptionsOf(k rails.Kind) []rails.Payment {
	f.t.Helper()
	ps, err := f.st.Payments(context.Background(), rails.PaymentQuery{Kinds: []rails.Kind{k}})
	if err != nil {
		f.t.Fatal(err)
	}
	return ps
}

// addendaIn reads the file that carried p and returns its entry.
func (f *railsFixture) entryIn(p rails.Payment) *ach.EntryDetail {
	f.t.Helper()
	file, err := f.st.File(context.Background(), p.File)
	if err != nil {
		f.t.Fatal(err)
	}
	af, err := ach.NewReader(bytes.NewReader(file.Body)).Read()
	if err != nil {
		f.t.Fatalf("the bank's file does not read back: %v", err)
	}
	if err := af.Validate(); err != nil {
		f.t.Fatalf("the bank's file does not validate: %v", err)
	}
	for _, b := range af.Batches {
		for _, e := range b.GetEntries() {
			if e.TraceNumberField() == p.Trace {
				return e
			}
		}
	}
	f.t.Fatalf("entry %s not in its file", p.Trace)
	return nil
}

// railsUntimelyReturn: a return that arrives after its window closed is
// dishonoured R68, not applied: the customer's payment stands, the
// operator's money waits in the exceptions account until the dishonour
// settles, and the emulator (which knows its return was late) accepts it.
// The return file processed twice changes nothing.
func railsUntimelyReturn(t *testing.T, open RailsOpener) {
	c := &clock{t: monday}
	f := newDishonorFixture(t, open, c, nil)
	ctx := context.Background()
	p := f.pay(f.payee("Late Larry", "Larry", railsim.LateAccount), 100_00)
	f.cycle()
	if got := f.payment(p.ID); got.Status != rails.StatusSettled {
		t.Fatalf("settled: %+v", got)
	}
	f.verify()
	c.add(4 * 24 * time.Hour) // Friday: the R03's window closed Wednesday night
	f.cycle()
	got := f.payment(p.ID)
	if got.Status != rails.StatusSettled || got.Reversal != 0 {
		t.Fatalf("an untimely return was applied: %+v", got)
	}
	e := f.entryOf(rails.EntryReturn, got.Trace)
	if e.Status != rails.EntryDishonored || e.Code != "R03" || !strings.Contains(e.Detail, "untimely") || !strings.Contains(e.Detail, "dishonoured R68") {
		t.Fatalf("the return's entry: %+v", e)
	}
	if a := f.account(); a.Balance != 900_00 {
		t.Fatalf("balance %d: the payment stands", a.Balance)
	}
	rf, err := f.st.File(ctx, e.File)
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := f.svc.Process(ctx, rf.Name, rf.Body); err != nil || !sum.Duplicate {
		t.Fatalf("the return file again: %+v %v", sum, err)
	}
	ds := f.exceptionsOf(rails.KindDishonor)
	if len(ds) != 1 || ds[0].ReturnCode != "R68" || ds[0].Amount != 100_00 {
		t.Fatalf("dishonours: %+v", ds)
	}
	if ds[0].Status == rails.StatusAccepted {
		f.cycle()
	}
	d := f.payment(ds[0].ID)
	if d.Status != rails.StatusSettled {
		t.Fatalf("the dishonour: %+v", d)
	}
	ed := f.entryIn(d)
	if a := ed.Addenda99Dishonored; a == nil || a.DishonoredReturnReasonCode != "R68" || strings.TrimSpace(a.OriginalEntryTraceNumber) != got.Trace ||
		a.ReturnReasonCode != "03" || ed.TransactionCode != ach.CheckingReturnNOCCredit || ed.Category != ach.CategoryDishonoredReturn {
		t.Fatalf("the dishonour's entry: %+v %+v", ed, ed.Addenda99Dishonored)
	}
	f.cycle()
	f.verify()
	if x, err := f.svc.Exceptions(ctx); err != nil || x.Balance != 0 {
		t.Fatalf("the exceptions account after the dishonour settled: %+v %v", x, err)
	}
	if cs := f.exceptionsOf(rails.KindContest); len(cs) != 0 {
		t.Fatalf("contests: %+v", cs)
	}
}

// railsContestedDishonour: the bank's clock says a return came late; the
// other bank's says it was timely, and it contests the dishonour R73. A
// contest is final: the return is applied then, once.
func railsContestedDishonour(t *testing.T, open RailsOpener) {
	bank, sim := &clock{t: monday}, &clock{t: monday}
	f := newDishonorFixture(t, open, bank, sim)
	ctx := context.Background()
	p := f.pay(f.payee("Ann Short", "Ann", "123456789"), 100_00)
	f.cycle()
	p = f.payment(p.ID)
	if p.Status != rails.StatusSettled {
		t.Fatalf("settled: %+v", p)
	}
	bank.add(5 * 24 * time.Hour)
	if _, err := f.sim.SendReturn(railsRouting, p.Trace, "R03", 0); err != nil {
		t.Fatal(err)
	}
	f.cycle() // the bank dishonours R68; the emulator contests R73
	f.cycle() // the bank takes the contest
	f.returnedOnce(p.ID, "R03", "after the contest")
	e := f.entryOf(rails.EntryContest, p.Trace)
	if e.Status != rails.EntryPosted || e.Code != "R73" {
		t.Fatalf("the contest's entry: %+v", e)
	}
	f.cycle()
	f.verify()
	if x, err := f.svc.Exceptions(ctx); err != nil || x.Balance != 0 {
		t.Fatalf("exceptions: %+v %v", x, err)
	}
}

// railsDuplicateReturn: an entry returned twice is refunded once; the
// second return is dishonoured R67, and the emulator, which sent two,
// accepts it.
func railsDuplicateReturn(t *testing.T, open RailsOpener) {
	c := &clock{t: monday}
	f := newDishonorFixture(t, open, c, nil)
	p := f.pay(f.payee("Twice Tim", "Tim", railsim.DuplicateAccount), 70_00)
	f.cycle()
	got := f.payment(p.ID)
	if got.Status != rails.StatusReturned {
		t.Fatalf("returned: %+v", got)
	}
	if a := f.account(); a.Balance != 1_000_00 {
		t.Fatalf("balance %d: refunded once", a.Balance)
	}
	ds := f.exceptionsOf(rails.KindDishonor)
	if len(ds) != 1 || ds[0].ReturnCode != "R67" {
		t.Fatalf("dishonours: %+v", ds)
	}
	f.cycle()
	f.cycle()
	if d := f.payment(ds[0].ID); d.Status != rails.StatusSettled {
		t.Fatalf("the dishonour: %+v", d)
	}
	if cs := f.exceptionsOf(rails.KindContest); len(cs) != 0 {
		t.Fatalf("contests: %+v", cs)
	}
	f.verify()
}

// railsMisroutedReturn: a return of a trace the bank never sent is
// dishonoured R61, one for another amount than the entry's R69; the
// emulator accepts both, and processing the file again changes nothing.
func railsMisroutedReturn(t *testing.T, open RailsOpener) {
	c := &clock{t: monday}
	f := newDishonorFixture(t, open, c, nil)
	ctx := context.Background()
	p := f.pay(f.payee("Ann Short", "Ann", "123456789"), 40_00)
	f.cycle()
	p = f.payment(p.ID)
	if _, err := f.sim.SendReturn(railsRouting, "021000089999999", "R03", 5_00); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.SendReturn(railsRouting, p.Trace, "R02", 4_00); err != nil {
		t.Fatal(err)
	}
	f.cycle()
	e := f.entryOf(rails.EntryReturn, "021000089999999")
	if e.Status != rails.EntryDishonored || e.Payment != 0 || !strings.Contains(e.Detail, "R61") {
		t.Fatalf("the misrouted return: %+v", e)
	}
	e = f.entryOf(rails.EntryReturn, p.Trace)
	if e.Status != rails.EntryDishonored || !strings.Contains(e.Detail, "R69") {
		t.Fatalf("the wrong return: %+v", e)
	}
	if got := f.payment(p.ID); got.Status != rails.StatusSettled {
		t.Fatalf("the payment: %+v", got)
	}
	rf, err := f.st.File(ctx, e.File)
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := f.svc.Process(ctx, rf.Name, rf.Body); err != nil || !sum.Duplicate {
		t.Fatalf("again: %+v %v", sum, err)
	}
	f.cycle()
	f.cycle()
	codes := map[string]rails.Status{}
	for _, d := range f.exceptionsOf(rails.KindDishonor) {
		codes[d.ReturnCode] = d.Status
		// The R69 names the field it found wrong, the amount: 03 in the
		// Addenda Information (NACHA Operations Bulletin "Proper Use of
		// Return Reason Code R69"); the R61 names none.
		a := f.entryIn(d).Addenda99Dishonored
		if want := map[string]string{"R61": "", "R69": rails.FieldAmount}[d.ReturnCode]; a == nil || strings.TrimSpace(a.AddendaInformation) != want {
			t.Fatalf("the %s's addenda: %+v", d.ReturnCode, a)
		}
	}
	if len(codes) != 2 || codes["R61"] != rails.StatusSettled || codes["R69"] != rails.StatusSettled {
		t.Fatalf("dishonours: %v", codes)
	}
	if a := f.account(); a.Balance != 960_00 {
		t.Fatalf("balance %d", a.Balance)
	}
	f.verify()
}

// railsDishonourOfOurReturn: the bank's own returns dishonoured by the
// originator. Its return of a credit to no account was right: a
// dishonour R69 is contested R76. Its return of a debit (funds short)
// left late, after the worker stood still for days: the emulator
// dishonours it R68 by itself, the bank accepts, and the debit is taken
// from the account after all.
func railsDishonourOfOurReturn(t *testing.T, open RailsOpener) {
	c := &clock{t: monday}
	f := newDishonorFixture(t, open, c, nil)
	ctx := context.Background()
	if _, err := f.sim.SendCredits(railsRouting, []railsim.Credit{{Account: "555000111", Name: "NOBODY", Amount: 25_00, Company: "ACME PAYROLL"}}); err != nil {
		t.Fatal(err)
	}
	f.cycle() // the credit is returned R03, and the return leaves
	f.cycle()
	rets := f.exceptionsOf(rails.KindReturn)
	if len(rets) != 1 || rets[0].Status != rails.StatusSettled {
		t.Fatalf("the return: %+v", rets)
	}
	if err := f.sim.Dishonor(railsRouting, rets[0].Trace, "R69"); err != nil {
		t.Fatal(err)
	}
	f.cycle()
	e := f.entryOf(rails.EntryDishonor, rets[0].Memo)
	if e.Status != rails.EntryContested || e.Code != "R69" || !strings.Contains(e.Detail, "contested R76") {
		t.Fatalf("the dishonour's entry: %+v", e)
	}
	cs := f.exceptionsOf(rails.KindContest)
	if len(cs) != 1 || cs[0].ReturnCode != "R76" {
		t.Fatalf("contests: %+v", cs)
	}
	f.cycle()
	if ct := f.payment(cs[0].ID); ct.Status != rails.StatusSettled || f.entryIn(ct).Addenda99Contested == nil {
		t.Fatalf("the contest: %+v", ct)
	}
	f.verify()

	// A debit the account cannot pay is returned R01 at once in the
	// bank's books, but the worker stands still for five days.
	if _, err := f.sim.SendDebits(railsRouting, []railsim.Debit{{Account: string(f.acct.Number), Name: "PAT", Amount: 1_500_00, Company: "CITY POWER"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Receive(ctx, f.tr); err != nil {
		t.Fatal(err)
	}
	f.fund(1_000_00)
	c.add(5 * 24 * time.Hour)
	f.cycle() // the late return leaves; the emulator dishonours it R68; the bank accepts
	f.cycle()
	var ret rails.Payment
	for _, p := range f.exceptionsOf(rails.KindDebitReturn) {
		ret = p
	}
	e = f.entryOf(rails.EntryDishonor, ret.Memo)
	if e.Status != rails.EntryPosted || e.Code != "R68" || !strings.Contains(e.Detail, "taken from the account") {
		t.Fatalf("the accepted dishonour: %+v", e)
	}
	if a := f.account(); a.Balance != 500_00 {
		t.Fatalf("balance %d: the debit of 1,500.00 stands", a.Balance)
	}
	if cs := f.exceptionsOf(rails.KindContest); len(cs) != 1 {
		t.Fatalf("contests: %+v", cs)
	}
	f.verify()
	if x, err := f.svc.Exceptions(ctx); err != nil || x.Balance != 0 {
		t.Fatalf("exceptions: %+v %v", x, err)
	}
}

// crashOnEntry is a rails store whose AddEntry fails once, for the first
// entry at, as if the process died after the entry's bookings and before
// its record.
type crashOnEntry struct {
	rails.Store
	at      func(rails.Entry) bool
	crashed *atomic.Bool
}

func (c crashOnEntry) AddEntry(ctx context.Context, e rails.Entry) (bool, error) {
	if c.at(e) && c.crashed.CompareAndSwap(false, true) {
		return false, errCrash
	}
	return c.Store.AddEntry(ctx, e)
}

// crashingCycle runs one cycle on a service over a store that dies at the
// entry at, and wants it to die there.
func (f *railsFixture) crashingCycle(c *clock, at func(rails.Entry) bool) {
	f.t.Helper()
	var crashed atomic.Bool
	svc := rails.New(crashOnEntry{Store: f.st, at: at, crashed: &crashed}, f.led,
		rails.Options{Origin: rails.Origin{Routing: railsRouting}, Screener: rails.MustSample(), Instant: f.tr, Now: c.Now})
	if err := svc.Cycle(context.Background(), f.tr); !errors.Is(err, errCrash) || !crashed.Load() {
		f.t.Fatalf("the cycle did not die where it was meant to: %v", err)
	}
}

// railsDuplicateReturnInOneFile: a file that returns one entry twice.
// The first return applies; the second is a duplicate (R67), dishonoured
// exactly once under keys of its own (the entry's trace and "#2"), though
// the bank dies while taking the file, at either return, and takes it
// again; the file processed once more changes nothing. The emulator,
// which sent two, accepts the dishonour, and the books, the
// reconciliation and the operator's position agree after each step.
func railsDuplicateReturnInOneFile(t *testing.T, open RailsOpener) {
	for _, tc := range []struct {
		name string
		at   func(rails.Entry) bool
	}{
		{"DiesAtTheFirst", func(e rails.Entry) bool { return e.Kind == rails.EntryReturn && !strings.Contains(e.Trace, "#") }},
		{"DiesAtTheSecond", func(e rails.Entry) bool { return e.Kind == rails.EntryReturn && strings.HasSuffix(e.Trace, "#2") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &clock{t: monday}
			f := newDishonorFixture(t, open, c, nil)
			ctx := context.Background()
			p := f.pay(f.payee("Twice Tess", "Tess", railsim.DuplicateInFileAccount), 70_00)
			f.crashingCycle(c, tc.at) // sent, settled; the returns' file half taken
			f.cycle()                 // taken again, whole
			got := f.returnedOnce(p.ID, "R03", "returned")
			first := f.entryOf(rails.EntryReturn, got.Trace)
			if first.Status != rails.EntryPosted || first.Transfer != got.Reversal {
				t.Fatalf("the first return: %+v", first)
			}
			second := f.entryOf(rails.EntryReturn, got.Trace+"#2")
			if second.Status != rails.EntryDishonored || second.File != first.File || second.Payment != p.ID ||
				!strings.Contains(second.Detail, "earlier return in this file") || !strings.Contains(second.Detail, "dishonoured R67") {
				t.Fatalf("the second return: %+v", second)
			}
			ds := f.exceptionsOf(rails.KindDishonor)
			if len(ds) != 1 || ds[0].ReturnCode != "R67" || ds[0].Amount != 70_00 {
				t.Fatalf("dishonours: %+v", ds)
			}
			rf, err := f.st.File(ctx, first.File)
			noErr(t, err)
			if sum, err := f.svc.Process(ctx, rf.Name, rf.Body); err != nil || !sum.Duplicate {
				t.Fatalf("the returns' file again: %+v %v", sum, err)
			}
			f.verify()
			f.cycle()
			f.cycle()
			d := f.payment(ds[0].ID)
			if d.Status != rails.StatusSettled {
				t.Fatalf("the dishonour: %+v", d)
			}
			// It names the second return, not the first.
			in, err := rails.ParseFile(rf.Body)
			noErr(t, err)
			if len(in.Returns) != 2 || in.Returns[0].ReturnTrace == in.Returns[1].ReturnTrace {
				t.Fatalf("the returns' file: %+v", in.Returns)
			}
			a := f.entryIn(d).Addenda99Dishonored
			if a == nil || a.DishonoredReturnReasonCode != "R67" || strings.TrimSpace(a.OriginalEntryTraceNumber) != got.Trace ||
				strings.TrimSpace(a.ReturnTraceNumber) != in.Returns[1].ReturnTrace {
				t.Fatalf("the dishonour's addenda: %+v", a)
			}
			if cs := f.exceptionsOf(rails.KindContest); len(cs) != 0 {
				t.Fatalf("contests: %+v", cs)
			}
			f.verify()
			if x, err := f.svc.Exceptions(ctx); err != nil || x.Balance != 0 {
				t.Fatalf("exceptions after the dishonour settled: %+v %v", x, err)
			}
			rec, err := f.svc.Reconcile(ctx)
			noErr(t, err)
			var n int64
			for _, tot := range rec.Totals {
				if tot.What == "entry:"+string(rails.EntryReturn) && tot.Status == string(rails.EntryDishonored) {
					n += tot.Count
				}
			}
			if n != 1 {
				t.Fatalf("the reconciliation counts %d dishonoured returns: %+v", n, rec.Totals)
			}
		})
	}
}

// dishonouredR69 pays 40.00 to an ordinary account, has the emulator
// return it R02 for 4.00 (a field error), and lets the bank dishonour the
// return R69 and the emulator accept that: it returns the payment and the
// dishonour, settled.
func (f *railsFixture) dishonouredR69() (rails.Payment, rails.Payment) {
	f.t.Helper()
	p := f.pay(f.payee("Ann Short", "Ann", "123456789"), 40_00)
	f.cycle()
	p = f.payment(p.ID)
	if _, err := f.sim.SendReturn(railsRouting, p.Trace, "R02", 4_00); err != nil {
		f.t.Fatal(err)
	}
	f.cycle() // the bank dishonours the return R69
	f.cycle() // the dishonour leaves, the emulator accepts it, it settles
	ds := f.exceptionsOf(rails.KindDishonor)
	if len(ds) != 1 || ds[0].ReturnCode != "R69" || ds[0].Status != rails.StatusSettled {
		f.t.Fatalf("dishonours: %+v", ds)
	}
	if a := f.entryIn(ds[0]).Addenda99Dishonored; a == nil || strings.TrimSpace(a.AddendaInformation) != "03" {
		f.t.Fatalf("the R69 names the amount (03) as the field in error: %+v", a)
	}
	if got := f.payment(p.ID); got.Status != rails.StatusSettled {
		f.t.Fatalf("the payment stands: %+v", got)
	}
	if a := f.account(); a.Balance != 960_00 {
		f.t.Fatalf("balance %d before the correction", a.Balance)
	}
	f.verify()
	return p, ds[0]
}

// railsCorrectedReturn: a return the bank dishonoured R69 (its amount was
// not the entry's) is corrected by the other bank, R74, in a contested
// dishonoured return. A correction that now matches the entry applies the
// return once, though the bank dies while taking it; one still wrong, or
// one later than two banking days after the dishonour settled, waits in
// the exceptions account for an operator (a contest is final: the bank
// cannot dishonour it). The books and the operator's position agree
// after each step.
func railsCorrectedReturn(t *testing.T, open RailsOpener) {
	t.Run("MatchingAppliesTheReturnOnce", func(t *testing.T) {
		t.Parallel()
		c := &clock{t: monday}
		f := newDishonorFixture(t, open, c, nil)
		ctx := context.Background()
		p, dis := f.dishonouredR69()
		if _, err := f.sim.Correct(railsRouting, p.Trace, 0); !errors.Is(err, railsim.ErrNoEntry) {
			t.Fatalf("a correction of no dishonour: %v", err)
		}
		if _, err := f.sim.Correct(railsRouting, dis.Trace, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := f.sim.Correct(railsRouting, dis.Trace, 0); !errors.Is(err, railsim.ErrAnswered) {
			t.Fatalf("a second correction: %v", err)
		}
		f.crashingCycle(c, func(e rails.Entry) bool { return e.Kind == rails.EntryContest })
		f.cycle()
		got := f.returnedOnce(p.ID, "R02", "after the correction")
		e := f.entryOf(rails.EntryContest, p.Trace)
		if e.Status != rails.EntryPosted || e.Code != "R74" || e.Transfer != got.Reversal || e.Amount != 40_00 ||
			!strings.Contains(e.Detail, "applied as corrected") {
			t.Fatalf("the correction's entry: %+v", e)
		}
		rf, err := f.st.File(ctx, e.File)
		noErr(t, err)
		in, err := rails.ParseFile(rf.Body)
		noErr(t, err)
		if len(in.Contests) != 1 || in.Contests[0].Code != "R74" || in.Contests[0].DishonorCode != "R69" ||
			in.Contests[0].DishonorTrace != dis.Trace || in.Contests[0].OriginalDFI != "23138010" || in.Contests[0].TxCode != ach.CheckingReturnNOCCredit {
			t.Fatalf("the correction as it came: %+v", in.Contests)
		}
		if sum, err := f.svc.Process(ctx, rf.Name, rf.Body); err != nil || !sum.Duplicate {
			t.Fatalf("the correction's file again: %+v %v", sum, err)
		}
		f.cycle()
		f.verify()
		if x, err := f.svc.Exceptions(ctx); err != nil || x.Balance != 0 {
			t.Fatalf("exceptions: %+v %v", x, err)
		}
		if cs := f.exceptionsOf(rails.KindContest); len(cs) != 0 {
			t.Fatalf("the bank answered a contest: %+v", cs)
		}
		// Returned now: another return of the entry is a duplicate.
		if _, err := f.sim.SendReturn(railsRouting, p.Trace, "R03", 0); err != nil {
			t.Fatal(err)
		}
		f.cycle()
		f.cycle()
		codes := map[string]rails.Status{}
		for _, d := range f.exceptionsOf(rails.KindDishonor) {
			codes[d.ReturnCode] = d.Status
		}
		if len(codes) != 2 || codes["R67"] != rails.StatusSettled {
			t.Fatalf("dishonours: %v", codes)
		}
		if a := f.account(); a.Balance != 1_000_00 {
			t.Fatalf("balance %d after a duplicate", a.Balance)
		}
		f.verify()
	})
	for _, tc := range []struct {
		name  string
		cents int64         // the correction's amount (0: the entry's)
		late  time.Duration // how far ahead the bank's clock runs when it comes
		why   string
	}{
		{"StillWrongWaitsForAnOperator", 3_00, 0, "is not the entry's"},
		{"LateWaitsForAnOperator", 0, 5 * 24 * time.Hour, "more than two banking days after the dishonour settled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bank, sim := &clock{t: monday}, &clock{t: monday}
			f := newDishonorFixture(t, open, bank, sim)
			ctx := context.Background()
			p, dis := f.dishonouredR69()
			bank.add(tc.late)
			if _, err := f.sim.Correct(railsRouting, dis.Trace, tc.cents); err != nil {
				t.Fatal(err)
			}
			f.cycle()
			if got := f.payment(p.ID); got.Status != rails.StatusSettled || got.Reversal != 0 {
				t.Fatalf("the payment: %+v", got)
			}
			if a := f.account(); a.Balance != 960_00 {
				t.Fatalf("balance %d: the payment stands", a.Balance)
			}
			e := f.entryOf(rails.EntryContest, p.Trace)
			if e.Status != rails.EntryUnmatched || e.Code != "R74" || !strings.Contains(e.Detail, tc.why) || !strings.Contains(e.Detail, "for an operator") {
				t.Fatalf("the correction's entry: %+v", e)
			}
			f.cycle()
			f.verify()
			rec, err := f.svc.Reconcile(ctx)
			noErr(t, err)
			if rec.Waiting.Count != 1 || rec.Exceptions.Balance == 0 {
				t.Fatalf("what waits: %+v, exceptions %d", rec.Waiting, rec.Exceptions.Balance)
			}
			if cs := f.exceptionsOf(rails.KindContest); len(cs) != 0 {
				t.Fatalf("the bank answered a contest: %+v", cs)
			}
		})
	}
}
