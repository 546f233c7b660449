package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
	"github.com/moov-io/ach"
)

func (f *railsFixture) collect(p rails.Payee, amt ledger.Amount, sec string) rails.Payment {
	f.t.Helper()
	f.seq++
	pay, err := f.svc.Collect(context.Background(), rails.DebitRequest{Customer: f.cust, Payee: p.ID, To: f.acct.ID, Amount: amt, SEC: sec,
		Authorization: "customer 77 agreed on the web, session s1", Channel: "web", Key: fmt.Sprintf("d%d", f.seq)})
	if err != nil {
		f.t.Fatalf("Collect: %v", err)
	}
	return pay
}

// spend moves money out of the customer's account, as a card payment would.
func (f *railsFixture) spend(amt ledger.Amount) {
	f.t.Helper()
	ctx := context.Background()
	out, err := f.led.Store().CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "merchant", Currency: "USD",
		Number: ledger.AccountNumber(fmt.Sprintf("90000000%04d", f.seq+100)), Routing: railsRouting, Unbounded: true, OpenedAt: time.Now()})
	if err != nil {
		f.t.Fatal(err)
	}
	f.seq++
	if _, _, err := f.led.Transfer(ctx, ledger.Move("test", fmt.Sprintf("spend%d", f.seq), f.acct.ID, out.ID, amt, "USD", "card")); err != nil {
		f.t.Fatalf("spend: %v", err)
	}
}

func (f *railsFixture) fund(amt ledger.Amount) {
	f.t.Helper()
	f.seq++
	bank, err := f.st.AccountByNumber(context.Background(), "900000000099")
	if err != nil {
		f.t.Fatal(err)
	}
	if _, _, err := f.led.Transfer(context.Background(), ledger.Move("test", fmt.Sprintf("fund%d", f.seq), bank.ID, f.acct.ID, amt, "USD", "salary")); err != nil {
		f.t.Fatal(err)
	}
}

// railsDebitReturnAfterSpend: a debit the bank collected is credited when
// it settles; the customer spends it; the other bank returns it R01. The
// return takes what the account can give, the rest is owed on the
// receivable and taken from the next money in, once even with two workers.
func railsDebitReturnAfterSpend(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{SettleAfter: time.Hour})
	ctx := context.Background()
	good := f.payee("Own Savings", "Savings", "123456789")
	short := f.payee("Empty Elsewhere", "Empty", "1111111111") // the emulator returns R01
	p1, p2 := f.collect(good, 200_00, rails.SECPPD), f.collect(short, 500_00, rails.SECPPD)
	if p1.Status != rails.StatusAccepted || p1.Hold != 0 || p1.SEC != "PPD" || p1.Authorization == "" {
		t.Fatalf("accepted debit: %+v", p1)
	}
	if a := f.account(); a.Balance != 1_000_00 || a.Held != 0 {
		t.Fatalf("a debit moved money before it settled: %+v", a)
	}
	f.cycle() // originated and sent; the operator has not settled
	p := f.payment(p1.ID)
	file, err := f.st.File(ctx, p.File)
	if err != nil {
		t.Fatal(err)
	}
	af, err := ach.NewReader(bytes.NewReader(file.Body)).Read()
	if err != nil {
		t.Fatal(err)
	}
	if bh := af.Batches[0].GetHeader(); bh.ServiceClassCode != ach.DebitsOnly || bh.StandardEntryClassCode != ach.PPD ||
		af.Batches[0].GetEntries()[0].TransactionCode != ach.CheckingDebit {
		t.Fatalf("the debit batch: %+v", bh)
	}
	f.sim.Settle(true) // settles, and queues the R01 of the second
	if _, err := f.svc.Confirm(ctx, f.tr); err != nil {
		t.Fatal(err)
	}
	if p := f.payment(p2.ID); p.Status != rails.StatusSettled || p.Settled.IsZero() || p.Hold == 0 {
		t.Fatalf("settled debit: %+v", p)
	}
	if a := f.account(); a.Balance != 1_700_00 {
		t.Fatalf("after settlement: balance %d, want 1,700.00", a.Balance)
	}
	f.spend(1_600_00) // the money was available, and is spent
	if _, err := f.svc.Receive(ctx, f.tr); err != nil {
		t.Fatal(err)
	}
	got := f.payment(p2.ID)
	if got.Status != rails.StatusReturned || got.ReturnCode != "R01" || got.Owed != 400_00 || got.Recovering != 0 ||
		!strings.Contains(got.Reason, "400.00 USD of it could not be taken back") {
		t.Fatalf("returned after spending: %+v", got)
	}
	if a := f.account(); a.Balance != 0 || a.Held != 0 {
		t.Fatalf("after the return: balance %d held %d, want 0: the account goes to its limit, no further", a.Balance, a.Held)
	}
	f.verify()
	// Processing the return file again changes nothing.
	es, _ := f.st.Entries(ctx, rails.EntryQuery{Customer: f.cust})
	rf, err := f.st.File(ctx, es[0].File)
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := f.svc.Process(ctx, rf.Name, rf.Body); err != nil || !sum.Duplicate {
		t.Fatalf("again: %+v %v", sum, err)
	}
	// Money comes in: two workers recover at once; the debt is taken once.
	f.fund(250_00)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.Recover(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := f.svc.Recover(ctx); err != nil { // a step a loser left undecided
		t.Fatal(err)
	}
	if got := f.payment(p2.ID); got.Owed != 150_00 || got.Recovering != 0 {
		t.Fatalf("after 250.00 came in: owed %d recovering %d", got.Owed, got.Recovering)
	}
	if a := f.account(); a.Balance != 0 {
		t.Fatalf("balance %d", a.Balance)
	}
	f.fund(1_000_00)
	f.cycle()
	if got := f.payment(p2.ID); got.Owed != 0 {
		t.Fatalf("owed %d after money came in", got.Owed)
	}
	if a := f.account(); a.Balance != 850_00 {
		t.Fatalf("balance %d, want 850.00", a.Balance)
	}
	f.verify()
}

func railsDebitRules(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	p := f.payee("Own Savings", "Savings", "123456789")
	req := rails.DebitRequest{Customer: f.cust, Payee: p.ID, To: f.acct.ID, Amount: 10_00, SEC: rails.SECPPD, Channel: "web", Key: "a"}
	if _, err := f.svc.Collect(ctx, req); !errors.Is(err, rails.ErrNoAuthority) {
		t.Fatalf("no authorisation: %v", err)
	}
	req.Authorization, req.SEC = "signed form 2026-12-01", "CCD"
	if _, err := f.svc.Collect(ctx, req); !errors.Is(err, rails.ErrSEC) {
		t.Fatalf("an SEC code not taken: %v", err)
	}
	req.SEC = rails.SECWEB
	if _, err := f.svc.Collect(ctx, req); !errors.Is(err, rails.ErrNotValidated) {
		t.Fatalf("WEB on an unverified account: %v", err)
	}
	if _, err := f.svc.Verify(ctx, f.cust, p.ID); err != nil {
		t.Fatal(err)
	}
	f.cycle() // the prenote settles: the account is validated
	web, err := f.svc.Collect(ctx, req)
	if err != nil || web.Status != rails.StatusAccepted {
		t.Fatalf("WEB on a verified account: %+v %v", web, err)
	}
	again, err := f.svc.Collect(ctx, req)
	if err != nil || again.ID != web.ID {
		t.Fatalf("the same key again: %+v %v", again, err)
	}
	req.Amount = 11_00
	if _, err := f.svc.Collect(ctx, req); !errors.Is(err, rails.ErrKeyReused) {
		t.Fatalf("the same key, another amount: %v", err)
	}
	req.Key, req.To = "b", 999_999
	if _, err := f.svc.Collect(ctx, req); !errors.Is(err, ledger.ErrAccountNotFound) {
		t.Fatalf("into an account not the customer's: %v", err)
	}
	f.cycle()
	got := f.payment(web.ID)
	if got.Status != rails.StatusSettled {
		t.Fatalf("WEB debit: %+v", got)
	}
	file, err := f.st.File(ctx, got.File)
	if err != nil {
		t.Fatal(err)
	}
	af, err := ach.NewReader(bytes.NewReader(file.Body)).Read()
	if err != nil {
		t.Fatal(err)
	}
	if bh := af.Batches[0].GetHeader(); bh.StandardEntryClassCode != ach.WEB || strings.TrimSpace(af.Batches[0].GetEntries()[0].DiscretionaryData) != "S" {
		t.Fatalf("WEB batch %+v entry %+v", bh, af.Batches[0].GetEntries()[0])
	}
	if a := f.account(); a.Balance != 1_010_00 {
		t.Fatalf("balance %d", a.Balance)
	}
	f.verify()
}

func railsInboundDebits(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	if _, err := f.sim.SendDebits(railsRouting, []railsim.Debit{
		{Account: string(f.acct.Number), Name: "PAT", Amount: 200_00, Company: "CITY POWER"},
		{Account: string(f.acct.Number), Name: "PAT", Amount: 900_00, Company: "CITY POWER"}, // 800.00 left: R01
		{Account: "999999999", Name: "NOBODY", Amount: 10_00, Company: "CITY POWER"},
	}); err != nil {
		t.Fatal(err)
	}
	names, err := f.tr.Inbox(ctx)
	if err != nil || len(names) != 1 {
		t.Fatalf("inbox: %v %v", names, err)
	}
	body, err := f.tr.Get(ctx, names[0])
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		sum, err := f.svc.Process(ctx, names[0], body)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && sum.Debited != 3 {
			t.Fatalf("first processing: %+v", sum)
		}
	}
	if a := f.account(); a.Balance != 800_00 {
		t.Fatalf("balance %d, want one debit of 200.00 posted", a.Balance)
	}
	es, err := f.st.Entries(ctx, rails.EntryQuery{})
	if err != nil || len(es) != 3 {
		t.Fatalf("entries %+v %v", es, err)
	}
	codes := map[string]int{}
	for _, e := range es {
		codes[string(e.Status)+" "+e.Code]++
	}
	if codes["posted "] != 1 || codes["returned R01"] != 1 || codes["returned R03"] != 1 {
		t.Fatalf("entries by outcome: %v", codes)
	}
	rec, err := f.svc.Reconcile(ctx)
	if err != nil || rec.Difference != 0 || rec.Unmatched != -910_00 || int64(rec.Settlement.Balance-rec.Unmatched) != f.sim.Position(railsRouting) {
		t.Fatalf("reconciliation %+v %v; the operator's position %d", rec, err, f.sim.Position(railsRouting))
	}
	if err := f.tr.Ack(ctx, names[0]); err != nil {
		t.Fatal(err)
	}
	f.cycle() // the returns leave and settle
	rets, err := f.st.Payments(ctx, rails.PaymentQuery{Kinds: []rails.Kind{rails.KindDebitReturn}})
	if err != nil || len(rets) != 2 || rets[0].Status != rails.StatusSettled || rets[0].Routing != "231380104" {
		t.Fatalf("the returns: %+v %v", rets, err)
	}
	f.verify()
}

func railsDisputeDebit(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	if _, err := f.sim.SendDebits(railsRouting, []railsim.Debit{
		{Account: string(f.acct.Number), Name: "PAT", Amount: 120_00, Company: "SHADY GYM", SEC: "WEB"},
		{Account: string(f.acct.Number), Name: "PAT", Amount: 30_00, Company: "CITY POWER", SEC: "WEB"},
	}); err != nil {
		t.Fatal(err)
	}
	f.cycle()
	if a := f.account(); a.Balance != 850_00 {
		t.Fatalf("balance %d", a.Balance)
	}
	es, err := f.st.Entries(ctx, rails.EntryQuery{Customer: f.cust})
	if err != nil || len(es) != 2 {
		t.Fatalf("entries %+v %v", es, err)
	}
	var gym, power rails.Entry
	for _, e := range es {
		if e.Amount == 120_00 {
			gym = e
		} else {
			power = e
		}
	}
	if _, err := f.svc.DisputeDebit(ctx, f.cust+1, gym.File, gym.Trace, "not me"); !errors.Is(err, rails.ErrEntryNotFound) {
		t.Fatalf("another customer's entry: %v", err)
	}
	if _, err := f.svc.DisputeDebit(ctx, f.cust, gym.File, gym.Trace, " "); bankbridge.ErrorKind(err) != bankbridge.Invalid {
		t.Fatalf("no statement: %v", err)
	}
	for range 2 { // a retry disputes once
		e, err := f.svc.DisputeDebit(ctx, f.cust, gym.File, gym.Trace, "I never signed up with this gym")
		if err != nil || e.Status != rails.EntryReturned || e.Code != "R10" || e.Payment == 0 {
			t.Fatalf("dispute: %+v %v", e, err)
		}
	}
	if a := f.account(); a.Balance != 970_00 {
		t.Fatalf("after the refund: balance %d", a.Balance)
	}
	// Sixty-one days later the window is closed.
	late := rails.New(f.st, f.led, rails.Options{Origin: rails.Origin{Routing: railsRouting}, Now: func() time.Time { return time.Now().AddDate(0, 0, 61) }})
	if _, err := late.DisputeDebit(ctx, f.cust, power.File, power.Trace, "not me"); !errors.Is(err, rails.ErrReturnWindow) {
		t.Fatalf("past sixty days: %v", err)
	}
	f.cycle()
	f.cycle()
	rets, err := f.st.Payments(ctx, rails.PaymentQuery{Kinds: []rails.Kind{rails.KindDebitReturn}})
	if err != nil || len(rets) != 1 || rets[0].Status != rails.StatusSettled || rets[0].ReturnCode != "R10" || rets[0].Amount != 120_00 {
		t.Fatalf("the R10: %+v %v", rets, err)
	}
	f.verify()
}

// railsInstantExceptions: requests for return and returns of instant
// payments, both ways, through the emulator; the books agree after each.
func railsInstantExceptions(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	payInstant := func(p rails.Payee, amt ledger.Amount) rails.Payment {
		t.Helper()
		f.seq++
		pay, err := f.svc.PayInstant(ctx, rails.PayRequest{Customer: f.cust, Payee: p.ID, From: f.acct.ID, Amount: amt, Channel: "web", Key: fmt.Sprintf("i%d", f.seq)})
		if err != nil || pay.Status != rails.StatusSettled {
			t.Fatalf("PayInstant: %+v %v", pay, err)
		}
		return pay
	}
	// Out: the payee refuses; then one given back.
	refuser, good := f.payee("Rita Refuse", "Rita", railsim.RecallRefusedAccount), f.payee("Sam Lee", "Sam", "123456789")
	p1, p2 := payInstant(refuser, 50_00), payInstant(good, 80_00)
	if _, err := f.svc.RequestReturn(ctx, f.cust, p1.ID, "XXXX"); !errors.Is(err, rails.ErrRecallReason) {
		t.Fatalf("a reason not in the code set: %v", err)
	}
	if _, err := f.svc.RequestReturn(ctx, f.cust+1, p1.ID, "FRAD"); !errors.Is(err, rails.ErrPaymentNotFound) {
		t.Fatalf("another customer's payment: %v", err)
	}
	r1, err := f.svc.RequestReturn(ctx, f.cust, p1.ID, "FRAD")
	if err != nil || r1.Recall != rails.RecallRefused || !strings.Contains(r1.RecallNote, "refused") {
		t.Fatalf("refused request: %+v %v", r1, err)
	}
	r2, err := f.svc.RequestReturn(ctx, f.cust, p2.ID, "DUPL")
	if err != nil || r2.Recall != rails.RecallAccepted {
		t.Fatalf("accepted request: %+v %v", r2, err)
	}
	if _, err := f.svc.RequestReturn(ctx, f.cust, p2.ID, "DUPL"); !errors.Is(err, rails.ErrNotRecallable) {
		t.Fatalf("asked twice: %v", err)
	}
	f.cycle() // the pacs.004 comes in
	if got := f.payment(p2.ID); got.Status != rails.StatusReturned || got.ReturnCode != "FOCR" || got.Reversal == 0 {
		t.Fatalf("returned instant payment: %+v", got)
	}
	if a := f.account(); a.Balance != 950_00 {
		t.Fatalf("balance %d, want 950.00", a.Balance)
	}
	f.verify()
	// In: two credits (one to no account), then requests to return them.
	e1, err := f.sim.SendInstant(railsRouting, string(f.acct.Number), "ACME LTD", 300_00)
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := f.sim.SendInstant(railsRouting, "999999999", "ACME LTD", 10_00)
	e3, _ := f.sim.SendInstant(railsRouting, string(f.acct.Number), "ACME LTD", 400_00)
	f.cycle()
	if st1, st2 := f.sim.InstantCredit(railsRouting, e1), f.sim.InstantCredit(railsRouting, e2); st1 != "ACSC" || st2 != "RJCT AC01" {
		t.Fatalf("answers: %q %q", st1, st2)
	}
	if a := f.account(); a.Balance != 1_650_00 {
		t.Fatalf("balance %d, want 1,650.00", a.Balance)
	}
	f.verify()
	f.spend(1_500_00) // the 400.00 is spent; 150.00 stays
	for _, e := range []string{e1, e3} {
		if err := f.sim.RequestReturn(railsRouting, e, "DUPL"); err != nil {
			t.Fatal(err)
		}
	}
	f.cycle()
	if st1, st3 := f.sim.InstantCredit(railsRouting, e1), f.sim.InstantCredit(railsRouting, e3); st1 != "return refused AM04" || st3 != "return refused AM04" {
		t.Fatalf("with 150.00 in the account: %q %q", st1, st3)
	}
	f.fund(1_000_00)
	if err := f.sim.RequestReturn(railsRouting, e1, "DUPL"); err != nil {
		t.Fatal(err)
	}
	f.cycle()
	f.cycle()
	if st := f.sim.InstantCredit(railsRouting, e1); st != "returned FOCR" {
		t.Fatalf("the credit asked back with money there: %q", st)
	}
	if a := f.account(); a.Balance != 850_00 {
		t.Fatalf("balance %d, want 850.00", a.Balance)
	}
	f.verify()
}
