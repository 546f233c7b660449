package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/scheduled"
)

// ScheduledDB is one instance's view of a database: its scheduled payments,
// ledger and rails stores.
type ScheduledDB struct {
	Scheduled scheduled.Store
	Ledger    ledger.Store
	Rails     rails.Store
}

// ScheduledOpener opens a fresh database for one test and returns a func
// that opens another instance on it (its own connections on PostgreSQL;
// the same store on SQLite, whose single writer is the fleet's limit).
type ScheduledOpener func(t testing.TB) func() ScheduledDB

// Scheduled runs the scheduled payments' conformance suite: the store's
// claim, and the service's rule that each occurrence is paid at most once,
// over a real ledger.
func Scheduled(t *testing.T, open ScheduledOpener) {
	t.Run("ClaimIsOnceAndMovesTheOrderOn", func(t *testing.T) { t.Parallel(); schedClaim(t, open) })
	t.Run("PaysEachOccurrenceOnceEvenAfterACrash", func(t *testing.T) { t.Parallel(); schedCrash(t, open) })
	t.Run("OverdrawIsRefusedAndTheCustomerTold", func(t *testing.T) { t.Parallel(); schedOverdraw(t, open) })
	t.Run("MissedRunIsReportedNotPaidLate", func(t *testing.T) { t.Parallel(); schedMissed(t, open) })
	t.Run("SkipAndCancel", func(t *testing.T) { t.Parallel(); schedSkipCancel(t, open) })
	t.Run("ExternalPayeeGoesOverTheRails", func(t *testing.T) { t.Parallel(); schedRails(t, open) })
	t.Run("TwoInstancesRacingPayOnce", func(t *testing.T) { t.Parallel(); schedRace(t, open) })
	t.Run("EditIsACompareAndSetAgainstTheWorker", func(t *testing.T) { t.Parallel(); schedEdit(t, open) })
	t.Run("StepUpAuthorisedAtSetupIsPaid", func(t *testing.T) { t.Parallel(); schedStepUp(t, open) })
	t.Run("DatesAreTheBanksTimeZone", func(t *testing.T) { t.Parallel(); schedZone(t, open) })
}

type told struct {
	mu   sync.Mutex
	msgs map[string]string // English
	es   map[string]string // Spanish
}

func (t *told) Tell(_ context.Context, _ bankbridge.CustomerID, key string, n scheduled.Notice) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.msgs == nil {
		t.msgs, t.es = map[string]string{}, map[string]string{}
	}
	t.msgs[key] = n.Title + ": " + n.Body
	t.es[key] = n.TitleES + ": " + n.BodyES
	return nil
}

type schedFixture struct {
	t          testing.TB
	db         ScheduledDB
	led        *ledger.Service
	from, to   ledger.Account
	now        time.Time
	told       *told
	svc        *scheduled.Service
	instance   func() ScheduledDB
	clockMu    sync.Mutex
	cust       bankbridge.CustomerID
	fundAmount ledger.Amount
	grace      time.Duration
	limits     scheduled.Limits
	loc        *time.Location
}

func newSchedFixture(t testing.TB, open ScheduledOpener, fund ledger.Amount) *schedFixture {
	inst := open(t)
	f := &schedFixture{t: t, instance: inst, db: inst(), cust: 91, told: &told{},
		now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), fundAmount: fund}
	f.led = ledger.New(f.db.Ledger, ledger.Options{})
	t.Cleanup(f.led.Close)
	ctx := context.Background()
	bank, err := f.db.Ledger.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "funding", Currency: "USD", Number: "900000000091", Unbounded: true, OpenedAt: f.now})
	noErr(t, err)
	f.from, err = f.db.Ledger.CreateAccount(ctx, ledger.Account{Customer: f.cust, Kind: ledger.Checking, Name: "Everyday", Currency: "USD", Number: "100000000091", OpenedAt: f.now})
	noErr(t, err)
	f.to, err = f.db.Ledger.CreateAccount(ctx, ledger.Account{Customer: f.cust, Kind: ledger.Savings, Name: "Savings", Currency: "USD", Number: "100000000092", OpenedAt: f.now})
	noErr(t, err)
	if fund > 0 {
		if _, _, err := f.led.Transfer(ctx, ledger.Move("test", "fund", bank.ID, f.from.ID, fund, "USD", "funding")); err != nil {
			t.Fatal(err)
		}
	}
	f.svc = f.service(f.db, f.led, nil)
	return f
}

func (f *schedFixture) clock() time.Time {
	f.clockMu.Lock()
	defer f.clockMu.Unlock()
	return f.now
}

func (f *schedFixture) set(t time.Time) {
	f.clockMu.Lock()
	defer f.clockMu.Unlock()
	f.now = t
}

func (f *schedFixture) service(db ScheduledDB, led *ledger.Service, payer scheduled.Payer) *scheduled.Service {
	return scheduled.New(db.Scheduled, led, scheduled.Options{Teller: f.told, Now: f.clock, Payer: payer, Grace: f.grace, Limits: f.limits, Location: f.loc})
}

func (f *schedFixture) order(every scheduled.Every, amt ledger.Amount, count int) scheduled.Order {
	f.t.Helper()
	o, err := f.svc.Create(context.Background(), scheduled.Order{Customer: f.cust, From: f.from.ID, To: f.to.ID, Label: "Savings",
		Amount: amt, Currency: "USD", Every: every, Start: f.clock(), Count: count})
	if err != nil {
		f.t.Fatalf("Create: %v", err)
	}
	return o
}

func (f *schedFixture) balance(id ledger.AccountID) ledger.Amount {
	f.t.Helper()
	a, err := f.db.Ledger.Account(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return a.Available()
}

func (f *schedFixture) cycle(svc *scheduled.Service) {
	f.t.Helper()
	if _, err := svc.Cycle(context.Background()); err != nil {
		f.t.Fatalf("Cycle: %v", err)
	}
}

func (f *schedFixture) runs(id scheduled.OrderID) []scheduled.Run {
	f.t.Helper()
	rs, err := f.db.Scheduled.Runs(context.Background(), f.cust, id, 100)
	if err != nil {
		f.t.Fatal(err)
	}
	return rs
}

func schedClaim(t *testing.T, open ScheduledOpener) {
	f := newSchedFixture(t, open, 0)
	ctx := context.Background()
	o := f.order(scheduled.Weekly, 10_00, 2)
	st := f.db.Scheduled
	next, _ := o.After(1)
	r := scheduled.Run{Order: o.ID, Seq: 1, Customer: f.cust, Date: o.Next, Status: scheduled.Claimed, At: f.clock()}
	if ok, err := st.Claim(ctx, o, r, next); err != nil || !ok {
		t.Fatalf("first Claim = %v, %v; want true", ok, err)
	}
	if ok, err := st.Claim(ctx, o, r, next); err != nil || ok {
		t.Fatalf("second Claim of the same occurrence = %v, %v; want false", ok, err)
	}
	got, err := st.Order(ctx, f.cust, o.ID)
	if err != nil || got.Runs != 1 || !got.Next.Equal(o.Start.AddDate(0, 0, 7)) || got.Status != scheduled.Active {
		t.Fatalf("after one claim: %+v, %v", got, err)
	}
	if ok, err := st.Claim(ctx, got, scheduled.Run{Order: o.ID, Seq: 2, Customer: f.cust, Date: got.Next, Status: scheduled.Claimed, At: f.clock()}, time.Time{}); err != nil || !ok {
		t.Fatalf("last Claim = %v, %v", ok, err)
	}
	if got, _ = st.Order(ctx, f.cust, o.ID); got.Status != scheduled.Finished || !got.Next.IsZero() {
		t.Fatalf("after the last claim: %+v", got)
	}
	if _, err := st.Order(ctx, f.cust+1, o.ID); !errors.Is(err, scheduled.ErrNotFound) {
		t.Fatalf("another customer's order: %v, want ErrNotFound", err)
	}
	left, err := st.Unsettled(ctx, f.clock().Add(time.Hour), 10)
	if err != nil || len(left) != 2 {
		t.Fatalf("Unsettled = %d, %v; want the 2 claimed runs", len(left), err)
	}
}

func schedCrash(t *testing.T, open ScheduledOpener) {
	f := newSchedFixture(t, open, 1_000_00)
	ctx := context.Background()
	o := f.order(scheduled.Weekly, 25_00, 3)
	f.cycle(f.svc) // 09:00 on the start date: due from 06:00
	if got := f.balance(f.to.ID); got != 25_00 {
		t.Fatalf("after the first run the savings hold %d, want 2500", got)
	}
	f.cycle(f.svc) // a second pass the same day pays nothing more
	if got := f.balance(f.to.ID); got != 25_00 {
		t.Fatalf("a second pass paid again: %d", got)
	}
	// A worker claims the second occurrence and dies before paying; and,
	// worse, one that paid but died before settling: the payment exists
	// under the occurrence's key.
	f.set(o.Start.AddDate(0, 0, 7).Add(7 * time.Hour))
	cur, _ := f.db.Scheduled.Order(ctx, f.cust, o.ID)
	next, _ := cur.After(2)
	r := scheduled.Run{Order: o.ID, Seq: 2, Customer: f.cust, Date: cur.Next, Status: scheduled.Claimed, At: f.clock()}
	if ok, err := f.db.Scheduled.Claim(ctx, cur, r, next); err != nil || !ok {
		t.Fatalf("Claim: %v %v", ok, err)
	}
	if _, _, err := f.led.Transfer(ctx, ledger.Move(scheduled.Client, r.Key(), f.from.ID, f.to.ID, 25_00, "USD", "Scheduled payment to Savings")); err != nil {
		t.Fatal(err)
	}
	f.set(f.clock().Add(2 * time.Minute))
	f.cycle(f.svc)
	if got := f.balance(f.to.ID); got != 50_00 {
		t.Fatalf("after the crashed run was resumed the savings hold %d, want 5000 (paid once)", got)
	}
	rs := f.runs(o.ID)
	if len(rs) != 2 || rs[0].Status != scheduled.Paid || rs[1].Status != scheduled.Paid || rs[0].Ref == "" {
		t.Fatalf("runs = %+v", rs)
	}
}

func schedOverdraw(t *testing.T, open ScheduledOpener) {
	f := newSchedFixture(t, open, 10_00)
	o := f.order(scheduled.Once, 50_00, 0)
	f.cycle(f.svc)
	if got := f.balance(f.from.ID); got != 10_00 {
		t.Fatalf("a refused payment moved money: %d left, want 1000", got)
	}
	rs := f.runs(o.ID)
	if len(rs) != 1 || rs[0].Status != scheduled.Refused || rs[0].Reason == "" {
		t.Fatalf("runs = %+v, want one refused with a reason", rs)
	}
	msg := f.told.msgs[rs[0].Key()]
	if msg == "" || !containsAll(msg, "not made", "not enough money", "50.00") {
		t.Fatalf("the customer was told %q", msg)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !contains(s, x) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func schedMissed(t *testing.T, open ScheduledOpener) {
	f := newSchedFixture(t, open, 1_000_00)
	o := f.order(scheduled.Weekly, 10_00, 4)
	// Every instance down for 9 days: the first occurrence is past grace
	// and reported; the second (2 days late) is caught up; none doubled.
	f.set(o.Start.AddDate(0, 0, 9).Add(12 * time.Hour))
	f.cycle(f.svc)
	f.cycle(f.svc)
	rs := f.runs(o.ID)
	if len(rs) != 2 || rs[1].Status != scheduled.Missed || rs[0].Status != scheduled.Paid {
		t.Fatalf("runs = %+v, want the first missed and the second paid", rs)
	}
	if got := f.balance(f.to.ID); got != 10_00 {
		t.Fatalf("savings hold %d, want 1000 (one payment)", got)
	}
	if msg := f.told.msgs[rs[1].Key()]; !contains(msg, "not made") {
		t.Fatalf("the missed run was told as %q", msg)
	}
}

func schedSkipCancel(t *testing.T, open ScheduledOpener) {
	f := newSchedFixture(t, open, 1_000_00)
	ctx := context.Background()
	o := f.order(scheduled.Monthly, 10_00, 3)
	noErr(t, f.svc.Skip(ctx, f.cust, o.ID))
	f.cycle(f.svc)
	if got := f.balance(f.to.ID); got != 0 {
		t.Fatalf("a skipped occurrence was paid: %d", got)
	}
	got, _ := f.db.Scheduled.Order(ctx, f.cust, o.ID)
	if !got.Next.Equal(o.Start.AddDate(0, 1, 0)) {
		t.Fatalf("after a skip the next date is %v", got.Next)
	}
	if err := f.svc.Cancel(ctx, f.cust+1, o.ID); !errors.Is(err, scheduled.ErrNotFound) {
		t.Fatalf("cancel by another customer: %v", err)
	}
	noErr(t, f.svc.Cancel(ctx, f.cust, o.ID))
	if err := f.svc.Cancel(ctx, f.cust, o.ID); !errors.Is(err, scheduled.ErrEnded) {
		t.Fatalf("second cancel: %v, want ErrEnded", err)
	}
	f.set(got.Next.Add(8 * time.Hour))
	f.cycle(f.svc)
	if got := f.balance(f.to.ID); got != 0 {
		t.Fatalf("a cancelled order was paid: %d", got)
	}
	list, err := f.db.Scheduled.Orders(ctx, f.cust)
	if err != nil || len(list) != 1 || list[0].Status != scheduled.Cancelled {
		t.Fatalf("Orders = %+v, %v", list, err)
	}
}

func schedRails(t *testing.T, open ScheduledOpener) {
	f := newSchedFixture(t, open, 1_000_00)
	ctx := context.Background()
	rs := rails.New(f.db.Rails, f.led, rails.Options{Origin: rails.Origin{Routing: railsRouting}, Screener: rails.MustSample(), Now: f.clock})
	pe, err := rs.AddPayee(ctx, rails.Payee{Customer: f.cust, Name: "Jane Landlord", Nickname: "Rent", Routing: "231380104", Number: "12345678"})
	noErr(t, err)
	svc := f.service(f.db, f.led, rs)
	o, err := svc.Create(ctx, scheduled.Order{Customer: f.cust, From: f.from.ID, Payee: pe.ID, Rail: true, Label: "Rent",
		Amount: 300_00, Currency: "USD", Every: scheduled.Monthly, Start: f.clock(), Count: 12})
	noErr(t, err)
	f.cycle(svc)
	f.cycle(svc)
	pays, err := f.db.Rails.Payments(ctx, rails.PaymentQuery{Customer: f.cust})
	noErr(t, err)
	if len(pays) != 1 || pays[0].Amount != 300_00 || pays[0].Channel != scheduled.Client || pays[0].Status != rails.StatusAccepted {
		t.Fatalf("rails payments = %+v, want one accepted of 300.00", pays)
	}
	if r := f.runs(o.ID); len(r) != 1 || r[0].Status != scheduled.Paid || r[0].Ref != fmt.Sprintf("ach:%d", pays[0].ID) {
		t.Fatalf("runs = %+v", r)
	}
}

func schedRace(t *testing.T, open ScheduledOpener) {
	f := newSchedFixture(t, open, 1_000_000_00)
	ctx := context.Background()
	const orders = 20
	for range orders {
		f.order(scheduled.Weekly, 1_00, 3)
	}
	// Two weeks on, with a grace that covers them: every order has three
	// due occurrences. Two instances, their own connections, race over them.
	f.grace = 30 * 24 * time.Hour
	f.set(f.clock().AddDate(0, 0, 14).Add(time.Hour))
	var svcs []*scheduled.Service
	for range 2 {
		db := f.instance()
		led := ledger.New(db.Ledger, ledger.Options{})
		t.Cleanup(led.Close)
		svcs = append(svcs, f.service(db, led, nil))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 4 {
		wg.Go(func() {
			if _, err := svcs[i%2].Cycle(ctx); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		// A lost race on PostgreSQL may surface as a transient error; the
		// next pass finishes the work, which is what the fleet does.
		if bankbridge.ErrorKind(err) != bankbridge.Unavailable {
			t.Fatalf("Cycle: %v", err)
		}
	}
	f.set(f.clock().Add(2 * time.Minute))
	f.cycle(svcs[0])
	if got, want := f.balance(f.to.ID), ledger.Amount(orders*3*1_00); got != want {
		t.Fatalf("savings hold %d after the race, want %d: an occurrence was paid twice or not at all", got, want)
	}
	list, _ := f.db.Scheduled.Orders(ctx, f.cust)
	for _, o := range list {
		if rs := f.runs(o.ID); len(rs) != 3 || o.Status != scheduled.Finished {
			t.Fatalf("order %d: status %s, runs %+v", o.ID, o.Status, rs)
		}
	}
}

func schedEdit(t *testing.T, open ScheduledOpener) {
	f := newSchedFixture(t, open, 1_000_00)
	ctx := context.Background()
	st := f.db.Scheduled
	o := f.order(scheduled.Weekly, 10_00, 4)
	// The customer opens the edit page (version 0) while the worker pays
	// the first occurrence: the edit made on what they saw is refused, and
	// nothing of it lands.
	shown, _ := st.Order(ctx, f.cust, o.ID)
	f.cycle(f.svc)
	if _, err := f.svc.Edit(ctx, f.cust, o.ID, scheduled.Edit{Version: shown.Version, Amount: 99_00, Count: 4, Actor: "customer:91"}); !errors.Is(err, scheduled.ErrChanged) {
		t.Fatalf("an edit of a version the worker moved on: %v, want ErrChanged", err)
	}
	cur, _ := st.Order(ctx, f.cust, o.ID)
	if cur.Amount != 10_00 || cur.Runs != 1 {
		t.Fatalf("after a refused edit: %+v", cur)
	}
	// The other way round: the worker read the order, the customer's edit
	// landed, then the worker's claim on what it read changes nothing.
	stale := cur
	next := cur.Next.AddDate(0, 0, 3)
	ed, err := f.svc.Edit(ctx, f.cust, o.ID, scheduled.Edit{Version: cur.Version, Amount: 20_00, Next: next, Count: 3, Actor: "customer:91"})
	if err != nil {
		t.Fatal(err)
	}
	if ed.Version != cur.Version+1 || !ed.Next.Equal(next) || ed.Amount != 20_00 {
		t.Fatalf("edited: %+v", ed)
	}
	r := scheduled.Run{Order: o.ID, Seq: 2, Customer: f.cust, Date: stale.Next, Status: scheduled.Claimed, At: f.clock()}
	if ok, err := st.Claim(ctx, stale, r, stale.Next.AddDate(0, 0, 7)); err != nil || ok {
		t.Fatalf("a claim on the version before the edit = %v, %v; want false", ok, err)
	}
	// The later dates follow the moved one; the edited amount is paid.
	if d, ok := ed.After(2); !ok || !d.Equal(next.AddDate(0, 0, 7)) {
		t.Fatalf("the occurrence after the moved one is on %v, %v", d, ok)
	}
	f.set(next.Add(10 * time.Hour))
	f.cycle(f.svc)
	if got := f.balance(f.to.ID); got != 30_00 {
		t.Fatalf("savings hold %d, want 3000 (10.00 before the edit, 20.00 after)", got)
	}
	// Bad edits: another customer's order, a count already reached.
	cur, _ = st.Order(ctx, f.cust, o.ID)
	if _, err := f.svc.Edit(ctx, f.cust+1, o.ID, scheduled.Edit{Version: cur.Version, Amount: 5_00, Count: 4}); !errors.Is(err, scheduled.ErrNotFound) {
		t.Fatalf("another customer's edit: %v", err)
	}
	if _, err := f.svc.Edit(ctx, f.cust, o.ID, scheduled.Edit{Version: cur.Version, Amount: 5_00, Count: 2}); !errors.Is(err, scheduled.ErrInvalid) {
		t.Fatalf("a count below the payments made: %v", err)
	}
	hist, err := st.Changes(ctx, f.cust, o.ID, 10)
	if err != nil || len(hist) != 1 || !containsAll(hist[0].Detail, "amount 10.00 USD -> 20.00 USD", "next date", "number of payments 4 -> 3") || hist[0].Actor != "customer:91" {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	if hist, _ := st.Changes(ctx, f.cust+1, o.ID, 10); len(hist) != 0 {
		t.Fatalf("another customer reads the history: %+v", hist)
	}
}

// stepUpLimits asks for the step-up on every payment above 100.00 not
// stepped up, as limits.Guard does past the policy's StepUp total.
type stepUpLimits struct{}

func (stepUpLimits) Reserve(_ context.Context, p limits.Payment) error {
	if p.Amount > 100_00 && !p.SteppedUp {
		return limits.ErrStepUp
	}
	return nil
}
func (stepUpLimits) Release(context.Context, limits.Payment) error { return nil }

func schedStepUp(t *testing.T, open ScheduledOpener) {
	f := newSchedFixture(t, open, 1_000_00)
	f.limits = stepUpLimits{}
	f.svc = f.service(f.db, f.led, nil)
	ctx := context.Background()
	mk := func(auth ledger.Amount) scheduled.Order {
		o, err := f.svc.Create(ctx, scheduled.Order{Customer: f.cust, From: f.from.ID, To: f.to.ID, Payee: 7, Label: "Sam",
			Amount: 200_00, Currency: "USD", Every: scheduled.Once, Start: f.clock(), Authorized: auth})
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	authorised, not := mk(200_00), mk(0)
	f.cycle(f.svc)
	if r := f.runs(authorised.ID); len(r) != 1 || r[0].Status != scheduled.Paid {
		t.Fatalf("authorised at setup: %+v, want paid", r)
	}
	r := f.runs(not.ID)
	if len(r) != 1 || r[0].Status != scheduled.Refused || !contains(r[0].Reason, "authenticator") {
		t.Fatalf("not authorised: %+v, want refused for the step-up", r)
	}
	if msg := f.told.es[r[0].Key()]; !containsAll(msg, "no se realizó", "autenticación", "200.00 USD") {
		t.Fatalf("the Spanish notice: %q", msg)
	}
}

func schedZone(t *testing.T, open ScheduledOpener) {
	f := newSchedFixture(t, open, 1_000_00)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	f.loc = ny
	f.svc = f.service(f.db, f.led, nil)
	// 02:00 UTC on 3 March is 21:00 on 2 March in New York: a payment for
	// 2 March is not in the past there.
	f.set(time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC))
	if got := f.svc.Today(); !got.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("today in New York = %v", got)
	}
	o, err := f.svc.Create(context.Background(), scheduled.Order{Customer: f.cust, From: f.from.ID, To: f.to.ID, Label: "Savings",
		Amount: 10_00, Currency: "USD", Every: scheduled.Once, Start: f.svc.Today()})
	if err != nil {
		t.Fatalf("a payment for today in New York, on the next UTC day: %v", err)
	}
	if !o.Next.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("the order is for %v", o.Next)
	}
	o2, err := f.svc.Create(context.Background(), scheduled.Order{Customer: f.cust, From: f.from.ID, To: f.to.ID, Label: "Savings",
		Amount: 1_00, Currency: "USD", Every: scheduled.Once, Start: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	// 3 March, 10:59 UTC is 05:59 in New York (EST): not yet due; 11:00 is.
	f.set(time.Date(2026, 3, 3, 10, 59, 0, 0, time.UTC))
	f.cycle(f.svc)
	if r := f.runs(o2.ID); len(r) != 0 {
		t.Fatalf("paid before 06:00 in New York: %+v", r)
	}
	f.set(time.Date(2026, 3, 3, 11, 0, 0, 0, time.UTC))
	f.cycle(f.svc)
	if r := f.runs(o2.ID); len(r) != 1 || r[0].Status != scheduled.Paid {
		t.Fatalf("at 06:00 in New York: %+v", r)
	}
}
