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
)

// LimitsOpener opens a fresh database for one test and returns its limits
// store twice, as two instances of a fleet would hold it (on SQLite, the
// same store).
type LimitsOpener func(t testing.TB) (a, b limits.Store)

// Limits runs the limits store's conformance suite.
func Limits(t *testing.T, open LimitsOpener) {
	t.Run("SumsTheWindowPerCustomerPayeeAndCurrency", func(t *testing.T) { t.Parallel(); limitsSums(t, open) })
	t.Run("RetryCountsOnce", func(t *testing.T) { t.Parallel(); limitsRetry(t, open) })
	t.Run("RefusalRecordsNothingAndReleaseForgets", func(t *testing.T) { t.Parallel(); limitsRelease(t, open) })
	t.Run("ConcurrentPaymentsCannotBothPassTheDailyLimit", func(t *testing.T) { t.Parallel(); limitsRace(t, open) })
}

var limitsNow = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func limitsUse(cust int64, payee ledger.AccountID, amt ledger.Amount, key string, at time.Time) limits.Use {
	return limits.Use{Customer: bankbridge.CustomerID(1000 + cust), Payee: payee, Amount: amt, Currency: "USD", Channel: "web", Key: key, At: at}
}

func limitsSums(t *testing.T, open LimitsOpener) {
	st, _ := open(t)
	ctx := context.Background()
	ok := func(limits.Usage) error { return nil }
	first := limitsNow.Add(-30 * time.Hour)
	for _, u := range []limits.Use{
		limitsUse(1, 7, 100, "old", first), // before the window: not in Day, but first paid
		limitsUse(1, 7, 200, "a", limitsNow.Add(-time.Hour)),
		limitsUse(1, 8, 300, "b", limitsNow.Add(-time.Minute)),
		limitsUse(2, 7, 5000, "c", limitsNow.Add(-time.Minute)), // another customer
	} {
		if err := st.Record(ctx, u, u.At.Add(-limits.Window), ok); err != nil {
			t.Fatalf("Record %s: %v", u.Key, err)
		}
	}
	eur := limitsUse(1, 7, 4000, "eur", limitsNow.Add(-time.Minute))
	eur.Currency = "EUR"
	noErr(t, st.Record(ctx, eur, eur.At.Add(-limits.Window), ok))
	var got limits.Usage
	err := st.Record(ctx, limitsUse(1, 7, 1, "probe", limitsNow), limitsNow.Add(-limits.Window), func(u limits.Usage) error { got = u; return errors.New("stop") })
	if err == nil || err.Error() != "stop" {
		t.Fatalf("Record did not return decide's error as it is: %v", err)
	}
	want := limits.Usage{Day: 500, Payee: 200, FirstPaid: first}
	if got != want {
		t.Errorf("usage = %+v, want %+v", got, want)
	}
	// A payee never paid has no first payment.
	err = st.Record(ctx, limitsUse(1, 9, 1, "probe", limitsNow), limitsNow.Add(-limits.Window), func(u limits.Usage) error { got = u; return errors.New("stop") })
	if !got.FirstPaid.IsZero() || got.Payee != 0 || got.Day != 500 {
		t.Errorf("usage for a new payee = %+v (%v)", got, err)
	}
}

func limitsRetry(t *testing.T, open LimitsOpener) {
	st, _ := open(t)
	ctx := context.Background()
	calls := 0
	u := limitsUse(1, 7, 100, "k", limitsNow)
	for range 3 {
		noErr(t, st.Record(ctx, u, limitsNow.Add(-limits.Window), func(limits.Usage) error { calls++; return nil }))
	}
	var got limits.Usage
	st.Record(ctx, limitsUse(1, 7, 1, "probe", limitsNow), limitsNow.Add(-limits.Window), func(us limits.Usage) error { got = us; return errors.New("stop") })
	if calls != 1 || got.Day != 100 {
		t.Errorf("three Records of one key: decide called %d times, day total %d; want 1 and 100", calls, got.Day)
	}
}

func limitsRelease(t *testing.T, open LimitsOpener) {
	st, _ := open(t)
	ctx := context.Background()
	no := errors.New("no")
	if err := st.Record(ctx, limitsUse(1, 7, 100, "refused", limitsNow), limitsNow.Add(-limits.Window), func(limits.Usage) error { return no }); !errors.Is(err, no) {
		t.Fatalf("Record = %v, want decide's error", err)
	}
	noErr(t, st.Record(ctx, limitsUse(1, 7, 100, "kept", limitsNow), limitsNow.Add(-limits.Window), func(limits.Usage) error { return nil }))
	noErr(t, st.Record(ctx, limitsUse(1, 7, 50, "released", limitsNow), limitsNow.Add(-limits.Window), func(limits.Usage) error { return nil }))
	noErr(t, st.Release(ctx, "web", "released"))
	if err := st.Release(ctx, "web", "never"); err != nil {
		t.Errorf("Release of an unknown use: %v", err)
	}
	var got limits.Usage
	st.Record(ctx, limitsUse(1, 7, 1, "probe", limitsNow), limitsNow.Add(-limits.Window), func(us limits.Usage) error { got = us; return errors.New("stop") })
	if got.Day != 100 {
		t.Errorf("day total = %d, want 100 (the refused and the released do not count)", got.Day)
	}
}

// limitsRace: 20 payments of 100 at once, half through each instance,
// against a daily limit of 1,000 that each fits alone: exactly 10 pass,
// and the recorded total is the limit.
func limitsRace(t *testing.T, open LimitsOpener) {
	a, b := open(t)
	ctx := context.Background()
	p := limits.Policy{Daily: 1000, PerPayee: 1000, NewPayee: 1000, Cooling: time.Hour, StepUp: 1000}
	var wg sync.WaitGroup
	var mu sync.Mutex
	passed := 0
	for i := range 20 {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Go(func() {
			g := limits.NewGuard(st, p, func() time.Time { return limitsNow })
			err := g.Reserve(ctx, limits.Payment{Customer: 1001, Payee: ledger.AccountID(1 + i%3), Amount: 100, Currency: "USD",
				Channel: "web", Key: fmt.Sprint("race-", i)})
			switch {
			case err == nil:
				mu.Lock()
				passed++
				mu.Unlock()
			case !errors.Is(err, limits.ErrDaily):
				t.Errorf("Reserve %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	var got limits.Usage
	a.Record(ctx, limitsUse(1, 1, 1, "probe", limitsNow), limitsNow.Add(-limits.Window), func(us limits.Usage) error { got = us; return errors.New("stop") })
	if passed != 10 || got.Day != 1000 {
		t.Errorf("%d of 20 concurrent payments passed, total %d; want 10 and 1000", passed, got.Day)
	}
}
