package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/railsim"
)

// RailsOpener opens a fresh database for one test and returns its rails
// store and its ledger store.
type RailsOpener func(t testing.TB) (rails.Store, ledger.Store)

// Rails runs the rails conformance suite: the store's contract, and the
// service's money flows over it and a real ledger, against the emulator.
func Rails(t *testing.T, open RailsOpener) {
	t.Run("PayeesAddRenameDelete", func(t *testing.T) { t.Parallel(); railsPayees(t, open) })
	t.Run("PaymentHeldSentSettledReturned", func(t *testing.T) { t.Parallel(); railsLifecycle(t, open) })
	t.Run("ReturnBeforeSettlementVoidsTheHold", func(t *testing.T) { t.Parallel(); railsEarlyReturn(t, open) })
	t.Run("CrashBetweenSendAndRecordSendsOnce", func(t *testing.T) { t.Parallel(); railsCrash(t, open) })
	t.Run("InboundCreditsPostOnceAndUnknownAccountsWait", func(t *testing.T) { t.Parallel(); railsInbound(t, open) })
	t.Run("MalformedFileNamesTheRecordAndPostsNothing", func(t *testing.T) { t.Parallel(); railsMalformed(t, open) })
	t.Run("SameKeyIsOnePayment", func(t *testing.T) { t.Parallel(); railsIdempotent(t, open) })
	t.Run("SanctionsHitHoldsForReview", func(t *testing.T) { t.Parallel(); railsSanctions(t, open) })
	t.Run("PrenoteVerifiesOrFailsAndChangesCorrect", func(t *testing.T) { t.Parallel(); railsPrenote(t, open) })
	t.Run("InstantSettlesOrIsRefusedNeverHalf", func(t *testing.T) { t.Parallel(); railsInstant(t, open) })
	t.Run("TwoWorkersFileEachPaymentOnce", func(t *testing.T) { t.Parallel(); railsTwoWorkers(t, open) })
	t.Run("MisroutedOrWrongReturnIsDishonouredR61R69", func(t *testing.T) { t.Parallel(); railsMisroutedReturn(t, open) })
	t.Run("UntimelyReturnIsDishonouredR68NotApplied", func(t *testing.T) { t.Parallel(); railsUntimelyReturn(t, open) })
	t.Run("ContestedDishonourR73AppliesTheReturnOnce", func(t *testing.T) { t.Parallel(); railsContestedDishonour(t, open) })
	t.Run("CorrectedReturnR74AppliesOnceOrWaits", func(t *testing.T) { t.Parallel(); railsCorrectedReturn(t, open) })
	t.Run("DuplicateReturnIsDishonouredR67", func(t *testing.T) { t.Parallel(); railsDuplicateReturn(t, open) })
	t.Run("DuplicateReturnInOneFileIsDishonouredR67Once", func(t *testing.T) { t.Parallel(); railsDuplicateReturnInOneFile(t, open) })
	t.Run("DishonourOfTheBanksReturnContestedOrAccepted", func(t *testing.T) { t.Parallel(); railsDishonourOfOurReturn(t, open) })
	t.Run("ExceptionsWaitingAreSettledOnceByAnOperator", func(t *testing.T) { t.Parallel(); railsResolveExceptions(t, open) })
	t.Run("DebitReturnedAfterSpendingIsOwedAndRecovered", func(t *testing.T) { t.Parallel(); railsDebitReturnAfterSpend(t, open) })
	t.Run("DebitNeedsAuthorisationAndWEBAValidatedAccount", func(t *testing.T) { t.Parallel(); railsDebitRules(t, open) })
	t.Run("InboundDebitsPostOnceOrReturnR01R03", func(t *testing.T) { t.Parallel(); railsInboundDebits(t, open) })
	t.Run("UnauthorisedDebitRefundedAndReturnedR10Within60Days", func(t *testing.T) { t.Parallel(); railsDisputeDebit(t, open) })
	t.Run("InstantReturnsAndRequestsForReturnBothWays", func(t *testing.T) { t.Parallel(); railsInstantExceptions(t, open) })
	t.Run("ChangeToldOnceThoughItsInstanceDied", func(t *testing.T) { t.Parallel(); railsRetell(t, open) })
	t.Run("MirrorModeCreditsLeaveToTheCoreOnceAndItsBookingSettles", func(t *testing.T) { t.Parallel(); railsToCore(t, open) })
}

const railsRouting = "021000089"

type railsFixture struct {
	t    testing.TB
	st   rails.Store
	led  *ledger.Service
	svc  *rails.Service
	sim  *railsim.Sim
	tr   *railsim.Client
	acct ledger.Account
	cust bankbridge.CustomerID
	seq  int
}

func newRailsFixture(t testing.TB, open RailsOpener, sim railsim.Options) *railsFixture {
	st, ls := open(t)
	f := &railsFixture{t: t, st: st, cust: 77}
	f.led = ledger.New(ls, ledger.Options{})
	t.Cleanup(f.led.Close)
	f.sim = railsim.New(sim)
	srv := httptest.NewServer(f.sim.Handler())
	t.Cleanup(srv.Close)
	f.tr = &railsim.Client{Base: srv.URL, Routing: railsRouting}
	f.svc = rails.New(st, f.led, rails.Options{Origin: rails.Origin{Routing: railsRouting}, Screener: rails.MustSample(), Instant: f.tr})
	ctx := context.Background()
	bank, err := ls.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "funding", Currency: "USD", Number: "900000000099", Routing: railsRouting, Unbounded: true, OpenedAt: time.Now()})
	noErr(t, err)
	f.acct, err = ls.CreateAccount(ctx, ledger.Account{Customer: f.cust, Kind: ledger.Checking, Name: "Everyday", Currency: "USD", Number: "100000000077", Routing: railsRouting, OpenedAt: time.Now()})
	noErr(t, err)
	if _, _, err := f.led.Transfer(ctx, ledger.Move("test", "fund", bank.ID, f.acct.ID, 1_000_00, "USD", "funding")); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *railsFixture) payee(name, nick, number string) rails.Payee {
	f.t.Helper()
	p, err := f.svc.AddPayee(context.Background(), rails.Payee{Customer: f.cust, Name: name, Nickname: nick, Routing: "231380104", Number: ledger.AccountNumber(number)})
	if err != nil {
		f.t.Fatalf("AddPayee: %v", err)
	}
	return p
}

func (f *railsFixture) pay(p rails.Payee, amt ledger.Amount) rails.Payment {
	f.t.Helper()
	f.seq++
	pay, err := f.svc.Pay(context.Background(), rails.PayRequest{Customer: f.cust, Payee: p.ID, From: f.acct.ID, Amount: amt, Channel: "web", Key: fmt.Sprintf("k%d", f.seq)})
	if err != nil {
		f.t.Fatalf("Pay: %v", err)
	}
	return pay
}

func (f *railsFixture) account() ledger.Account {
	f.t.Helper()
	a, err := f.led.Store().Account(context.Background(), f.acct.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// returnedOnce checks that payment id was returned with code, its money
// back on the customer's account once (the fixture funds it with
// 1,000.00), and returns the payment; when names the moment, for the
// failure.
func (f *railsFixture) returnedOnce(id rails.PaymentID, code, when string) rails.Payment {
	f.t.Helper()
	got := f.payment(id)
	if got.Status != rails.StatusReturned || got.ReturnCode != code || got.Reversal == 0 {
		f.t.Fatalf("%s: %+v", when, got)
	}
	if a := f.account(); a.Balance != 1_000_00 {
		f.t.Fatalf("balance %d %s: the money is back once", a.Balance, when)
	}
	return got
}

func (f *railsFixture) payment(id rails.PaymentID) rails.Payment {
	f.t.Helper()
	p, err := f.st.Payment(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *railsFixture) cycle() {
	f.t.Helper()
	if err := f.svc.Cycle(context.Background(), f.tr); err != nil {
		f.t.Fatalf("Cycle: %v", err)
	}
}

// verify checks the ledger and the reconciliation.
func (f *railsFixture) verify() {
	f.t.Helper()
	ctx := context.Background()
	rep, err := f.led.Store().Verify(ctx)
	if err != nil || !rep.OK() {
		f.t.Fatalf("ledger verify: %v %v", err, rep.Problems)
	}
	rec, err := f.svc.Reconcile(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	if rec.Difference != 0 {
		f.t.Fatalf("reconciliation differs by %d: %+v", rec.Difference, rec)
	}
	if rec.ReceivableDifference != 0 {
		f.t.Fatalf("the return receivable differs by %d: %+v", rec.ReceivableDifference, rec)
	}
	if got := f.sim.Position(railsRouting); int64(rec.Settlement.Balance-rec.Unmatched) != got {
		f.t.Fatalf("settlement balance %d less unmatched %d, the operator's position %d", rec.Settlement.Balance, rec.Unmatched, got)
	}
}

func railsPayees(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	p := f.payee("Sam Lee", "Sam", "123456789")
	if p.Status != rails.PayeeUnverified {
		t.Fatalf("status %s", p.Status)
	}
	if _, err := f.svc.AddPayee(ctx, rails.Payee{Customer: f.cust, Name: "Other", Nickname: "Sam", Routing: "231380104", Number: "987654321"}); !errors.Is(err, rails.ErrNicknameTaken) {
		t.Fatalf("a nickname taken: %v", err)
	}
	if _, err := f.svc.AddPayee(ctx, rails.Payee{Customer: f.cust, Name: "Bad", Nickname: "Bad", Routing: "231380105", Number: "987654321"}); !errors.Is(err, rails.ErrRouting) {
		t.Fatalf("a bad check digit: %v", err)
	}
	if _, err := f.st.Payee(ctx, f.cust+1, p.ID); !errors.Is(err, rails.ErrPayeeNotFound) {
		t.Fatalf("another customer's payee: %v", err)
	}
	noErr(t, f.st.RenamePayee(ctx, f.cust, p.ID, "Sammy"))
	ps, err := f.st.Payees(ctx, f.cust)
	if err != nil || len(ps) != 1 || ps[0].Nickname != "Sammy" || ps[0].Number != "123456789" {
		t.Fatalf("Payees: %+v %v", ps, err)
	}
	if err := f.st.RenamePayee(ctx, f.cust+1, p.ID, "x"); !errors.Is(err, rails.ErrPayeeNotFound) {
		t.Fatalf("rename another's: %v", err)
	}
	noErr(t, f.st.DeletePayee(ctx, f.cust, p.ID))
	if ps, _ := f.st.Payees(ctx, f.cust); len(ps) != 0 {
		t.Fatalf("deleted payee still listed: %+v", ps)
	}
	if err := f.st.DeletePayee(ctx, f.cust, p.ID); !errors.Is(err, rails.ErrPayeeNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func railsLifecycle(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	good := f.payee("Sam Lee", "Sam", "123456789")
	short := f.payee("Ann Short", "Ann", "1111111111") // the emulator returns R01
	p1, p2 := f.pay(good, 200_00), f.pay(short, 100_00)
	if p1.Status != rails.StatusAccepted || p1.Hold == 0 {
		t.Fatalf("accepted payment: %+v", p1)
	}
	if a := f.account(); a.Held != 300_00 || a.Balance != 1_000_00 {
		t.Fatalf("after accepting: balance %d held %d", a.Balance, a.Held)
	}
	f.cycle() // originate, send, settle (the emulator settles at once), take the returns
	if got := f.payment(p1.ID); got.Status != rails.StatusSettled || got.Trace == "" || got.File == 0 {
		t.Fatalf("settled payment: %+v", got)
	}
	got := f.payment(p2.ID)
	if got.Status != rails.StatusReturned || got.ReturnCode != "R01" || got.Reversal == 0 || !strings.Contains(got.Reason, "enough money") {
		t.Fatalf("returned payment: %+v", got)
	}
	if a := f.account(); a.Held != 0 || a.Balance != 800_00 {
		t.Fatalf("after settlement and return: balance %d held %d", a.Balance, a.Held)
	}
	f.verify()
	// The operator's return file processed again changes nothing.
	es, err := f.st.Entries(ctx, rails.EntryQuery{Customer: f.cust})
	if err != nil || len(es) != 1 || es[0].Code != "R01" {
		t.Fatalf("entries: %+v %v", es, err)
	}
	file, err := f.st.File(ctx, es[0].File)
	noErr(t, err)
	sum, err := f.svc.Process(ctx, file.Name, file.Body)
	if err != nil || !sum.Duplicate {
		t.Fatalf("second processing: %+v %v", sum, err)
	}
	if a := f.account(); a.Balance != 800_00 {
		t.Fatalf("a duplicate file moved money: %d", a.Balance)
	}
	f.verify()
}

func railsEarlyReturn(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{SettleAfter: time.Hour})
	ctx := context.Background()
	closed := f.payee("Cal Closed", "Cal", "2222222222")
	p := f.pay(closed, 50_00)
	f.cycle()
	if got := f.payment(p.ID); got.Status != rails.StatusSent {
		t.Fatalf("before settlement: %+v", got)
	}
	f.sim.Settle(true) // the emulator settles, and queues the R02
	// The return arrives before the bank asks about the file.
	if _, err := f.svc.Receive(ctx, f.tr); err != nil {
		t.Fatal(err)
	}
	got := f.payment(p.ID)
	if got.Status != rails.StatusReturned || got.ReturnCode != "R02" {
		t.Fatalf("returned: %+v", got)
	}
	if a := f.account(); a.Held != 0 || a.Balance != 1_000_00 {
		t.Fatalf("the hold was not released: balance %d held %d", a.Balance, a.Held)
	}
	f.cycle() // the file's confirmation settles nothing returned
	if got := f.payment(p.ID); got.Status != rails.StatusReturned {
		t.Fatalf("a returned payment moved on: %+v", got)
	}
	if a := f.account(); a.Balance != 1_000_00 {
		t.Fatalf("balance %d", a.Balance)
	}
	rep, err := f.led.Store().Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
}

// failingTransport records nothing after a send: a crash between sending
// a file and recording it sent.
type crashAfterSend struct{ *railsim.Client }

var errCrash = errors.New("crash")

func (c crashAfterSend) Send(ctx context.Context, name string, body []byte) error {
	if err := c.Client.Send(ctx, name, body); err != nil {
		return err
	}
	return errCrash
}

func railsCrash(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	p := f.pay(f.payee("Sam Lee", "Sam", "123456789"), 100_00)
	if _, err := f.svc.Originate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Send(ctx, crashAfterSend{f.tr}); !errors.Is(err, errCrash) {
		t.Fatalf("send: %v", err)
	}
	if got := f.payment(p.ID); got.Status != rails.StatusBatched {
		t.Fatalf("after the crash: %+v", got)
	}
	// A new file is not built for the same payment, and the file is sent
	// again under its name: the operator takes it once.
	if file, err := f.svc.Originate(ctx); err != nil || file.ID != 0 {
		t.Fatalf("a second file: %+v %v", file, err)
	}
	f.cycle()
	if got := f.payment(p.ID); got.Status != rails.StatusSettled {
		t.Fatalf("after the restart: %+v", got)
	}
	if pos := f.sim.Position(railsRouting); pos != 100_00 {
		t.Fatalf("the operator settled %d, want 100_00 once", pos)
	}
	f.verify()
}

func railsInbound(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	if _, err := f.sim.SendCredits(railsRouting, []railsim.Credit{
		{Account: string(f.acct.Number), Name: "PAT", Amount: 2_500_00, Company: "ACME PAYROLL"},
		{Account: "999999999", Name: "NOBODY", Amount: 10_00, Company: "ACME PAYROLL"},
	}); err != nil {
		t.Fatal(err)
	}
	names, err := f.tr.Inbox(ctx)
	if err != nil || len(names) != 1 {
		t.Fatalf("inbox: %v %v", names, err)
	}
	body, err := f.tr.Get(ctx, names[0])
	noErr(t, err)
	// Processed, then the same file again (an acknowledgement lost).
	for i := range 2 {
		sum, err := f.svc.Process(ctx, names[0], body)
		noErr(t, err)
		if i == 0 && (sum.Credited != 1 || sum.Unmatched != 1) {
			t.Fatalf("first processing: %+v", sum)
		}
	}
	if a := f.account(); a.Balance != 3_500_00 {
		t.Fatalf("balance %d, want the credit once", a.Balance)
	}
	if _, _, err := f.st.ReceiveFile(ctx, rails.File{Name: names[0], Body: []byte("other"), Created: time.Now()}); !errors.Is(err, rails.ErrFileConflict) {
		t.Fatalf("another body under the name: %v", err)
	}
	es, err := f.st.Entries(ctx, rails.EntryQuery{})
	if err != nil || len(es) != 2 {
		t.Fatalf("entries %+v %v", es, err)
	}
	rec, err := f.svc.Reconcile(ctx)
	if err != nil || rec.Difference != 0 || rec.Unmatched != 10_00 || int64(rec.Settlement.Balance-rec.Unmatched) != f.sim.Position(railsRouting) {
		t.Fatalf("reconciliation %+v %v; the operator's position %d", rec, err, f.sim.Position(railsRouting))
	}
	// The credit to no account goes back, R03, in the next file, once.
	noErr(t, f.tr.Ack(ctx, names[0]))
	f.cycle()
	f.cycle()
	rets, err := f.st.Payments(ctx, rails.PaymentQuery{Kinds: []rails.Kind{rails.KindReturn}})
	if err != nil || len(rets) != 1 || rets[0].Status != rails.StatusSettled || rets[0].ReturnCode != "R03" || rets[0].Amount != 10_00 || rets[0].Routing != "231380104" {
		t.Fatalf("the return: %+v %v", rets, err)
	}
	f.verify() // the operator's position equals the settlement account again
	if rec, _ := f.svc.Reconcile(ctx); rec.Unmatched != 0 {
		t.Fatalf("unmatched after the return: %+v", rec)
	}
}

func railsMalformed(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	if _, err := f.sim.SendCredits(railsRouting, []railsim.Credit{{Account: string(f.acct.Number), Name: "PAT", Amount: 100_00, Company: "ACME"}}); err != nil {
		t.Fatal(err)
	}
	names, _ := f.tr.Inbox(ctx)
	body, _ := f.tr.Get(ctx, names[0])
	lines := strings.Split(string(body), "\n")
	truncated := strings.Join(lines[:3], "\n") // header, batch header, one entry: no controls
	_, err := f.svc.Process(ctx, "truncated.ach", []byte(truncated))
	if bankbridge.ErrorCode(err) != "nacha_file_invalid" || !strings.Contains(bankbridge.ErrorMessage(err), "File Control record") {
		t.Fatalf("truncated file: %v (%s)", err, bankbridge.ErrorMessage(err))
	}
	bad := strings.Replace(string(body), "622", "6X2", 1)
	_, err = f.svc.Process(ctx, "bad.ach", []byte(bad))
	if bankbridge.ErrorCode(err) != "nacha_file_invalid" || !strings.Contains(bankbridge.ErrorMessage(err), "line 3") {
		t.Fatalf("bad entry: %v (%s)", err, bankbridge.ErrorMessage(err))
	}
	if a := f.account(); a.Balance != 1_000_00 {
		t.Fatalf("a bad file posted: %d", a.Balance)
	}
}

func railsIdempotent(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	p := f.payee("Sam Lee", "Sam", "123456789")
	req := rails.PayRequest{Customer: f.cust, Payee: p.ID, From: f.acct.ID, Amount: 100_00, Channel: "web", Key: "same"}
	a, err := f.svc.Pay(ctx, req)
	noErr(t, err)
	b, err := f.svc.Pay(ctx, req)
	if err != nil || b.ID != a.ID {
		t.Fatalf("the same key again: %+v %v", b, err)
	}
	if acct := f.account(); acct.Held != 100_00 {
		t.Fatalf("held %d", acct.Held)
	}
	if got, err := f.svc.PaymentByKey(ctx, f.cust, "web", "same"); err != nil || got.ID != a.ID {
		t.Fatalf("by its key: %+v %v", got, err)
	}
	for _, k := range [][2]string{{"api", "same"}, {"web", "other"}} {
		if _, err := f.svc.PaymentByKey(ctx, f.cust, k[0], k[1]); !errors.Is(err, rails.ErrPaymentNotFound) {
			t.Fatalf("by channel %s key %s: %v, want not found", k[0], k[1], err)
		}
	}
	if _, err := f.svc.PaymentByKey(ctx, f.cust+1, "web", "same"); !errors.Is(err, rails.ErrPaymentNotFound) {
		t.Fatalf("another customer's key: %v, want not found", err)
	}
	req.Amount = 200_00
	if _, err := f.svc.Pay(ctx, req); !errors.Is(err, rails.ErrKeyReused) {
		t.Fatalf("the same key, another amount: %v", err)
	}
	req.Key, req.Amount = "big", 5_000_00
	big, err := f.svc.Pay(ctx, req)
	if bankbridge.ErrorCode(err) != "insufficient_funds" || big.Status != rails.StatusRefused {
		t.Fatalf("more than the balance: %+v %v", big, err)
	}
}

func railsSanctions(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	hit := f.payee("Dmitri Kovalenko", "Dima", "123456789")
	p1, p2 := f.pay(hit, 10_00), f.pay(hit, 20_00)
	if p1.Status != rails.StatusHeld || !strings.Contains(p1.Screen, "9001") {
		t.Fatalf("a hit: %+v", p1)
	}
	f.cycle()
	if got := f.payment(p1.ID); got.Status != rails.StatusHeld {
		t.Fatalf("a held payment left: %+v", got)
	}
	if _, err := f.svc.Release(ctx, p1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Reject(ctx, p2.ID, "true match"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Release(ctx, p2.ID); !errors.Is(err, rails.ErrNotHeld) {
		t.Fatalf("release a rejected payment: %v", err)
	}
	f.cycle()
	if got := f.payment(p1.ID); got.Status != rails.StatusSettled {
		t.Fatalf("released: %+v", got)
	}
	if a := f.account(); a.Balance != 990_00 || a.Held != 0 {
		t.Fatalf("balance %d held %d", a.Balance, a.Held)
	}
	f.verify()
}

func railsPrenote(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	good, bad, noc := f.payee("Sam Lee", "Sam", "123456789"), f.payee("Ned None", "Ned", "3333333333"), f.payee("Cora Change", "Cora", "5555555555")
	for _, p := range []rails.Payee{good, bad, noc} {
		if _, err := f.svc.Verify(ctx, f.cust, p.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Verify(ctx, f.cust, good.ID); !errors.Is(err, rails.ErrAlreadyPending) {
		t.Fatalf("verify twice: %v", err)
	}
	f.cycle()
	check := func(p rails.Payee, want rails.PayeeStatus, number string) {
		t.Helper()
		got, err := f.st.Payee(ctx, f.cust, p.ID)
		if err != nil || got.Status != want || string(got.Number) != number {
			t.Fatalf("payee %s: %+v %v", p.Nickname, got, err)
		}
	}
	check(good, rails.PayeeVerified, "123456789")
	check(bad, rails.PayeeFailed, "3333333333")
	check(noc, rails.PayeeVerified, railsim.NOCCorrection)
	if _, err := f.svc.Pay(ctx, rails.PayRequest{Customer: f.cust, Payee: bad.ID, From: f.acct.ID, Amount: 1, Channel: "web", Key: "x"}); !errors.Is(err, rails.ErrPayeeFailed) {
		t.Fatalf("pay a failed payee: %v", err)
	}
	if a := f.account(); a.Balance != 1_000_00 || a.Held != 0 {
		t.Fatalf("a prenote moved money: %d %d", a.Balance, a.Held)
	}
	f.verify()
}

// lostAnswer sends the message but loses the answer: a timeout.
type lostAnswer struct{ *railsim.Client }

func (l lostAnswer) Instant(ctx context.Context, b []byte) ([]byte, error) {
	if _, err := l.Client.Instant(ctx, b); err != nil {
		return nil, err
	}
	return nil, errCrash
}

func railsInstant(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	good, closed := f.payee("Sam Lee", "Sam", "123456789"), f.payee("Cal Closed", "Cal", "2222222222")
	req := func(p rails.Payee, key string, amt ledger.Amount) rails.PayRequest {
		return rails.PayRequest{Customer: f.cust, Payee: p.ID, From: f.acct.ID, Amount: amt, Channel: "web", Key: key}
	}
	p, err := f.svc.PayInstant(ctx, req(good, "i1", 100_00))
	if err != nil || p.Status != rails.StatusSettled {
		t.Fatalf("instant: %+v %v", p, err)
	}
	p, err = f.svc.PayInstant(ctx, req(closed, "i2", 50_00))
	if err != nil || p.Status != rails.StatusRefused || p.ReturnCode != "AC04" || !strings.Contains(p.Reason, "closed") {
		t.Fatalf("refused: %+v %v", p, err)
	}
	if a := f.account(); a.Balance != 900_00 || a.Held != 0 {
		t.Fatalf("balance %d held %d", a.Balance, a.Held)
	}
	// The answer is lost: the money stays held, the payment sent, and the
	// worker asks again with the same message; the service settles it once.
	lost := rails.New(f.st, f.led, rails.Options{Origin: rails.Origin{Routing: railsRouting}, Instant: lostAnswer{f.tr}})
	p, err = lost.PayInstant(ctx, req(good, "i3", 25_00))
	if !errors.Is(err, errCrash) || p.Status != rails.StatusSent {
		t.Fatalf("lost answer: %+v %v", p, err)
	}
	if a := f.account(); a.Held != 25_00 {
		t.Fatalf("held %d", a.Held)
	}
	f.cycle()
	if got := f.payment(p.ID); got.Status != rails.StatusSettled {
		t.Fatalf("after the worker: %+v", got)
	}
	if a := f.account(); a.Balance != 875_00 || a.Held != 0 {
		t.Fatalf("balance %d held %d", a.Balance, a.Held)
	}
	if _, err := f.svc.PayInstant(ctx, req(good, "i4", rails.InstantLimit+1)); !errors.Is(err, rails.ErrInstantLimit) {
		t.Fatalf("over the limit: %v", err)
	}
	f.verify()
}

func railsTwoWorkers(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	p := f.payee("Sam Lee", "Sam", "123456789")
	for range 20 {
		f.pay(p, 1_00)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			if _, err := f.svc.Originate(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		// A worker that lost a race may find the payments taken (nothing
		// to do) or be told the database is busy; never a second file.
		if bankbridge.ErrorKind(err) != bankbridge.Unavailable {
			t.Fatal(err)
		}
	}
	fs, err := f.st.Files(ctx, rails.FileQuery{Direction: rails.DirOut})
	noErr(t, err)
	entries := 0
	for _, file := range fs {
		entries += file.Entries
	}
	if entries != 20 {
		t.Fatalf("%d entries in %d files, want each of 20 payments in one file", entries, len(fs))
	}
	f.cycle()
	if a := f.account(); a.Balance != 980_00 || a.Held != 0 {
		t.Fatalf("balance %d held %d", a.Balance, a.Held)
	}
	f.verify()
}

// railsRetell: a status change whose instance died after storing it and
// before telling it (alerts, partner events) is told by the worker once it
// is old enough, once, as the payment now is; a change told in time is
// never told again.
func railsRetell(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	p := f.pay(f.payee("Sam Lee", "Sam", "123456789"), 25_00) // accepted, and told so
	now := time.Now().UTC()
	var told []rails.Payment
	svc := rails.New(f.st, f.led, rails.Options{Origin: rails.Origin{Routing: railsRouting}, Now: func() time.Time { return now },
		OnChange: func(p rails.Payment) { told = append(told, p) }})
	if n, err := svc.Retell(ctx); err != nil || n != 0 {
		t.Fatalf("Retell with nothing untold: %d, %v", n, err)
	}
	// Another instance stores a change and dies before telling it.
	died := p
	died.Status, died.Reason, died.Updated = rails.StatusRefused, "the payee's bank refused it", now
	if ok, err := f.st.MovePayment(ctx, died, rails.StatusAccepted); err != nil || !ok {
		t.Fatalf("MovePayment: %v %v", ok, err)
	}
	// Telling the status it had before does not count for this change.
	noErr(t, f.st.Told(ctx, p.ID, rails.StatusAccepted))
	if n, _ := svc.Retell(ctx); n != 0 || len(told) != 0 {
		t.Fatalf("a change a second old was retold (%d): its instance may still be telling it", n)
	}
	now = now.Add(time.Minute)
	if n, err := svc.Retell(ctx); err != nil || n != 1 || len(told) != 1 {
		t.Fatalf("Retell of a change whose instance died: %d, %v, told %d times", n, err, len(told))
	}
	if got := told[0]; got.ID != p.ID || got.Status != rails.StatusRefused || got.Reason != died.Reason {
		t.Fatalf("retold %+v, want the payment as it is now", got)
	}
	now = now.Add(time.Hour)
	if n, _ := svc.Retell(ctx); n != 0 || len(told) != 1 {
		t.Fatalf("a change told once was told again (%d)", n)
	}
}

// railsToCore: in mirror mode a credit leaves as one pain.001 in the core's
// outbox, not in an ACH file; a crash between writing and recording, or
// between recording and renaming, still leaves one file per payment; the
// core's booking (a debit entry naming the end-to-end id) settles it once,
// releasing the hold before the mirror posts the core's debit.
func railsToCore(t *testing.T, open RailsOpener) {
	f := newRailsFixture(t, open, railsim.Options{})
	ctx := context.Background()
	dir := t.TempDir()
	f.svc = rails.New(f.st, f.led, rails.Options{Origin: rails.Origin{Routing: railsRouting}, Screener: rails.MustSample(), CoreOutbox: dir})
	sam := f.payee("Sam Lee", "Sam", "123456789")
	p1 := f.pay(sam, 100_00)
	noErr(t, f.svc.Cycle(ctx, f.tr))
	if got := f.payment(p1.ID); got.Status != rails.StatusSent || got.Trace != rails.EndToEndID(p1.ID) || got.File != 0 {
		t.Fatalf("after the cycle: %+v", got)
	}
	body, err := os.ReadFile(filepath.Join(dir, rails.CoreFileName(p1.ID)))
	noErr(t, err)
	if !strings.Contains(string(body), "<EndToEndId>"+rails.EndToEndID(p1.ID)+"</EndToEndId>") || !strings.Contains(string(body), ">100.00</InstdAmt>") {
		t.Fatalf("pain.001:\n%s", body)
	}
	if fs, err := f.st.Files(ctx, rails.FileQuery{Direction: rails.DirOut}); err != nil || len(fs) != 0 {
		t.Fatalf("an ACH file was built in mirror mode: %+v %v", fs, err)
	}
	// A crash after the record, before the rename: the next pass renames.
	p2 := f.pay(sam, 30_00)
	tmp := filepath.Join(dir, "."+rails.CoreFileName(p2.ID)+".tmp")
	noErr(t, os.WriteFile(tmp, []byte("written before the crash"), 0o600))
	ok, err := f.st.MarkSentToCore(ctx, p2.ID, rails.EndToEndID(p2.ID), time.Now())
	if err != nil || !ok {
		t.Fatalf("mark: %v %v", ok, err)
	}
	if ok, _ := f.st.MarkSentToCore(ctx, p2.ID, rails.EndToEndID(p2.ID), time.Now()); ok {
		t.Fatal("a payment marked sent twice")
	}
	// A crash before the record: the temporary file is written again.
	p3 := f.pay(sam, 20_00)
	noErr(t, os.WriteFile(filepath.Join(dir, "."+rails.CoreFileName(p3.ID)+".tmp"), []byte("half"), 0o600))
	n, err := f.svc.ToCore(ctx)
	if err != nil || n != 1 {
		t.Fatalf("ToCore: %d %v", n, err)
	}
	if n, err := f.svc.ToCore(ctx); err != nil || n != 0 {
		t.Fatalf("ToCore again: %d %v", n, err)
	}
	es, err := os.ReadDir(dir)
	noErr(t, err)
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	want := []string{rails.CoreFileName(p1.ID), rails.CoreFileName(p2.ID), rails.CoreFileName(p3.ID)}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("outbox %v, want %v", names, want)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, rails.CoreFileName(p3.ID))); !strings.Contains(string(b), ">20.00</InstdAmt>") {
		t.Fatalf("rewritten file:\n%s", b)
	}
	if a := f.account(); a.Balance != 1_000_00 || a.Held != 150_00 {
		t.Fatalf("before the core books: balance %d held %d", a.Balance, a.Held)
	}
	// The core books p1 (by its end-to-end id) and p3 (by the entry's
	// reference); p2 for another amount settles nothing.
	entries := []rails.StatementEntry{{Ref: "CORE-1", Amount: -100_00, EndToEnd: rails.EndToEndID(p1.ID)},
		{Ref: rails.EndToEndID(p3.ID), Amount: -20_00}, {Ref: "CORE-3", Amount: -31_00, EndToEnd: rails.EndToEndID(p2.ID)},
		{Ref: "CORE-4", Amount: 5_00, EndToEnd: rails.EndToEndID(p2.ID)}}
	for range 2 {
		noErr(t, f.svc.SettleFromCore(ctx, entries))
	}
	if got := f.payment(p1.ID); got.Status != rails.StatusSettled || got.Settled.IsZero() {
		t.Fatalf("p1: %+v", got)
	}
	if got := f.payment(p3.ID); got.Status != rails.StatusSettled {
		t.Fatalf("p3: %+v", got)
	}
	if got := f.payment(p2.ID); got.Status != rails.StatusSent {
		t.Fatalf("p2 settled for another amount: %+v", got)
	}
	// The holds are released: the core's debits, posted by the mirror,
	// take the money once.
	if a := f.account(); a.Balance != 1_000_00 || a.Held != 30_00 {
		t.Fatalf("after the core booked: balance %d held %d", a.Balance, a.Held)
	}
	// The ACH reconciliation leaves the payments settled through the core
	// out, and counts the one still sent as outstanding.
	rec, err := f.svc.Reconcile(ctx)
	noErr(t, err)
	if rec.Outstanding != 30_00 || rec.Difference != 0 {
		t.Fatalf("reconciliation: %+v", rec)
	}
	// The core rejects p2 (pain.002 RJCT) and, again, p1 (settled: nothing
	// changes): p2's hold is released, once.
	rej := []rails.CoreRejection{{EndToEnd: rails.EndToEndID(p2.ID), Reason: "AC04"}, {EndToEnd: rails.EndToEndID(p1.ID), Reason: "AM04"}}
	for i := range 2 {
		n, err := f.svc.RejectedByCore(ctx, rej)
		if err != nil || n != 1-i {
			t.Fatalf("RejectedByCore pass %d: %d %v", i, n, err)
		}
	}
	if got := f.payment(p2.ID); got.Status != rails.StatusRefused || got.ReturnCode != "AC04" || !strings.Contains(got.Reason, "core refused") {
		t.Fatalf("p2 rejected: %+v", got)
	}
	if got := f.payment(p1.ID); got.Status != rails.StatusSettled {
		t.Fatalf("p1 after a late rejection: %+v", got)
	}
	if a := f.account(); a.Balance != 1_000_00 || a.Held != 0 {
		t.Fatalf("after the rejection: balance %d held %d", a.Balance, a.Held)
	}
	f.verify()
}
