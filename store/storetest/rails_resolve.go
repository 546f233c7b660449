package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
)

// Settling what waits in the ACH return exceptions account
// (rails/resolve.go), on both engines: the books, the reconciliation and
// the operator's position agree after each step.

// waitingExceptions makes two items wait for an operator, as the worker
// that stood still for five days leaves them: a credit to no account here
// and a debit the account cannot pay are both returned late, the emulator
// dishonours both returns R68, and the bank accepts: the credit's money
// (+25.00) is held for someone, the debit's (-1,500.00) was paid out.
func waitingExceptions(t *testing.T, open RailsOpener) (*railsFixture, *clock) {
	c := &clock{t: monday}
	f := newDishonorFixture(t, open, c, nil)
	ctx := context.Background()
	if _, err := f.sim.SendCredits(railsRouting, []railsim.Credit{{Account: "555000111", Name: "NOBODY", Amount: 25_00, Company: "ACME PAYROLL"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.SendDebits(railsRouting, []railsim.Debit{{Account: string(f.acct.Number), Name: "PAT", Amount: 1_500_00, Company: "CITY POWER"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Receive(ctx, f.tr); err != nil {
		t.Fatal(err)
	}
	c.add(5 * 24 * time.Hour)
	f.cycle() // the late returns leave; the emulator dishonours them R68
	f.cycle() // the bank accepts both
	f.verify()
	return f, c
}

// waitingBy returns the item waiting whose amount is amt.
func waitingBy(t *testing.T, ws []rails.Waiting, amt ledger.Amount) rails.Waiting {
	t.Helper()
	for _, w := range ws {
		if w.Entry.Amount == amt {
			return w
		}
	}
	t.Fatalf("nothing of %d waits among %+v", amt, ws)
	return rails.Waiting{}
}

// railsResolveExceptions: what waits is listed with what it holds and what
// may be done with it; two operators on two instances pressing at once
// settle an item once; the same form sent twice changes nothing more; a
// charge is taken by the overdraft-on-return rule, and a decision whose
// instance died before booking it is booked by the worker.
func railsResolveExceptions(t *testing.T, open RailsOpener) {
	f, _ := waitingExceptions(t, open)
	ctx := context.Background()
	ws, err := f.svc.Waiting(ctx, 100)
	if err != nil || len(ws) != 2 {
		t.Fatalf("waiting: %+v %v", ws, err)
	}
	credit, debit := waitingBy(t, ws, 25_00), waitingBy(t, ws, 1_500_00)
	if credit.Held != 25_00 || credit.Entry.Kind != rails.EntryDishonor || credit.Entry.Code != "R68" || credit.Account.ID != 0 ||
		len(credit.Actions) != 2 || credit.Actions[0] != rails.ResolveCredit || credit.Pending != nil {
		t.Fatalf("the credit's money waiting: %+v", credit)
	}
	if debit.Held != -1_500_00 || debit.Account.ID != f.acct.ID || debit.Entry.Customer != f.cust ||
		len(debit.Actions) != 2 || debit.Actions[0] != rails.ResolveCharge || debit.Payment.Kind != rails.KindDebitReturn {
		t.Fatalf("the debit paid out waiting: %+v", debit)
	}
	rec, err := f.svc.Reconcile(ctx)
	if err != nil || rec.Waiting.Count != 2 || rec.Waiting.Amount != 1_525_00 || rec.Resolved.Count != 0 || rec.Exceptions.Balance != -1_475_00 {
		t.Fatalf("the reconciliation before: waiting %+v resolved %+v exceptions %d %v", rec.Waiting, rec.Resolved, rec.Exceptions.Balance, err)
	}

	req := func(w rails.Waiting, action string, staff int64) rails.ResolveRequest {
		return rails.ResolveRequest{File: w.Entry.File, Trace: w.Entry.Trace, Kind: w.Entry.Kind, Action: action, Staff: bankbridge.StaffID(staff), Reason: "checked with the originator"}
	}
	// What the item is decides what may be done; a reason is needed.
	if _, err := f.svc.Resolve(ctx, req(credit, rails.ResolveCharge, 1)); !errors.Is(err, rails.ErrResolveAction) {
		t.Fatalf("charging money held: %v", err)
	}
	r := req(credit, rails.ResolveCredit, 1)
	r.Reason = "  "
	if _, err := f.svc.Resolve(ctx, r); !errors.Is(err, rails.ErrResolveReason) {
		t.Fatalf("no reason: %v", err)
	}
	if _, err := f.svc.Resolve(ctx, rails.ResolveRequest{File: credit.Entry.File, Trace: "nope", Kind: rails.EntryDishonor,
		Action: rails.ResolveWriteOff, Staff: 1, Reason: "x"}); !errors.Is(err, rails.ErrResolutionNotFound) {
		t.Fatalf("nothing waits there: %v", err)
	}
	r = req(credit, rails.ResolveCredit, 1)
	r.Account = "900000000020" // the bank's own: not a customer's
	if _, err := f.svc.Resolve(ctx, r); !errors.Is(err, rails.ErrResolveAccount) {
		t.Fatalf("credit to the settlement account: %v", err)
	}

	// Two operators on two instances at once: one credits the customer,
	// the other writes it off. One decision is booked.
	other := rails.New(f.st, f.led, rails.Options{Origin: rails.Origin{Routing: railsRouting}, Now: f.svc.Options().Now})
	a, b := req(credit, rails.ResolveCredit, 1), req(credit, rails.ResolveWriteOff, 2)
	a.Account = f.acct.Number
	var wg sync.WaitGroup
	var ra, rb rails.Resolution
	var ea, eb error
	wg.Add(2)
	go func() { defer wg.Done(); ra, ea = f.svc.Resolve(ctx, a) }()
	go func() { defer wg.Done(); rb, eb = other.Resolve(ctx, b) }()
	wg.Wait()
	won := ra
	switch {
	case ea == nil && errors.Is(eb, rails.ErrResolved):
		if rb.Action != rails.ResolveCredit || rb.Staff != 1 {
			t.Fatalf("the loser is told another decision: %+v", rb)
		}
	case eb == nil && errors.Is(ea, rails.ErrResolved):
		won = rb
	default:
		t.Fatalf("two decisions at once: %v, %v", ea, eb)
	}
	if won.Done.IsZero() || won.Transfer == 0 || won.Held != 25_00 {
		t.Fatalf("the decision booked: %+v", won)
	}
	wantBalance := ledger.Amount(1_000_00)
	if won.Action == rails.ResolveCredit {
		wantBalance += 25_00
	}
	wo, err := f.svc.WriteOffs(ctx)
	noErr(t, err)
	if got := f.account().Balance; got != wantBalance {
		t.Fatalf("balance %d after %s, want %d", got, won.Action, wantBalance)
	}
	if won.Action == rails.ResolveWriteOff && wo.Balance != 25_00 {
		t.Fatalf("the written-off account: %d", wo.Balance)
	}
	// The same form sent again: the same decision, nothing more moves.
	same := a
	if won.Action == rails.ResolveWriteOff {
		same = b
	}
	again, err := f.svc.Resolve(ctx, same)
	if err != nil || again.Transfer != won.Transfer {
		t.Fatalf("sent twice: %+v %v", again, err)
	}
	if got := f.account().Balance; got != wantBalance {
		t.Fatalf("balance %d after the form sent twice", got)
	}
	if e := f.entryOf(rails.EntryDishonor, credit.Entry.Trace); e.Status != rails.EntryResolved {
		t.Fatalf("the entry settled: %+v", e)
	}
	f.verify()

	// The debit paid out: an instance records the charge and dies before
	// booking it. Nothing has moved; the item shows the decision; the
	// worker books it, and the overdraft-on-return rule takes what the
	// account can spend.
	dec, created, err := f.st.DecideResolution(ctx, rails.Resolution{File: debit.Entry.File, Trace: debit.Entry.Trace, Kind: debit.Entry.Kind,
		Action: rails.ResolveCharge, Held: debit.Held, Customer: f.cust, Account: f.acct.ID, Staff: 3, Reason: "the customer agreed to pay", Decided: monday})
	if err != nil || !created || !dec.Done.IsZero() {
		t.Fatalf("decide: %+v %v %v", dec, created, err)
	}
	if _, created, err := f.st.DecideResolution(ctx, rails.Resolution{File: debit.Entry.File, Trace: debit.Entry.Trace, Kind: debit.Entry.Kind,
		Action: rails.ResolveWriteOff, Held: debit.Held, Staff: 4, Reason: "later", Decided: monday}); err != nil || created {
		t.Fatalf("a second decision was recorded: %v %v", created, err)
	}
	if _, err := f.svc.Resolve(ctx, req(debit, rails.ResolveWriteOff, 4)); !errors.Is(err, rails.ErrResolved) {
		t.Fatalf("writing off what another decided to charge: %v", err)
	}
	ws, err = f.svc.Waiting(ctx, 100)
	if err != nil || len(ws) != 1 || ws[0].Pending == nil || ws[0].Pending.Action != rails.ResolveCharge || ws[0].Pending.Staff != 3 {
		t.Fatalf("waiting with a decision not booked: %+v %v", ws, err)
	}
	f.verify()
	f.cycle()
	done, err := f.st.Resolution(ctx, debit.Entry.File, debit.Entry.Trace, debit.Entry.Kind)
	if err != nil || done.Done.IsZero() || done.Owed != 1_500_00-wantBalance || done.Recovering != 0 {
		t.Fatalf("the charge booked by the worker: %+v %v", done, err)
	}
	if got := f.account(); got.Balance != 0 {
		t.Fatalf("the account after the charge: balance %d", got.Balance)
	}
	if ok, err := f.st.CancelResolution(ctx, debit.Entry.File, debit.Entry.Trace, debit.Entry.Kind); err != nil || ok {
		t.Fatalf("a booked decision cancelled: %v %v", ok, err)
	}
	f.verify()
	f.fund(600_00)
	f.cycle()
	if done, _ = f.st.Resolution(ctx, debit.Entry.File, debit.Entry.Trace, debit.Entry.Kind); done.Owed != 0 {
		t.Fatalf("owed %d after money came in", done.Owed)
	}
	if got := f.account().Balance; got != 600_00-(1_500_00-wantBalance) {
		t.Fatalf("balance %d after the debt was recovered", got)
	}
	f.verify()
	if ws, err := f.svc.Waiting(ctx, 100); err != nil || len(ws) != 0 {
		t.Fatalf("still waiting: %+v %v", ws, err)
	}
	rec, err = f.svc.Reconcile(ctx)
	if err != nil || rec.Waiting.Count != 0 || rec.Resolved.Count != 2 || rec.Resolved.Amount != 25_00-1_500_00 || rec.Exceptions.Balance != 0 || rec.Owed != 0 {
		t.Fatalf("the reconciliation after: waiting %+v resolved %+v exceptions %d owed %d %v", rec.Waiting, rec.Resolved, rec.Exceptions.Balance, rec.Owed, err)
	}
	if rs, err := f.st.Resolutions(ctx, rails.ResolutionQuery{}); err != nil || len(rs) != 2 {
		t.Fatalf("resolutions: %+v %v", rs, err)
	}
}
