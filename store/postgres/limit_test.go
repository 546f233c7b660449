package postgres_test

// The fleet's rate budgets exist only on PostgreSQL: SQLite serves one
// process, whose in-memory limiters (dataapi.NewLimiter, messenger.NewPacer)
// are exact there, so there is no second engine to hold to one suite.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/store/storetest"

	"github.com/jackc/pgx/v5"

	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
)

// TestLimitsDecide walks one budget on a fake clock: one turn every 100 ms,
// three saved up.
func TestLimitsDecide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	l := openPG(t, testdb.PostgresURL(t)).Budgets(func() time.Time { return now })
	const every, burst = 100 * time.Millisecond, 3
	take := func(t *testing.T, key string, maxWait time.Duration) (time.Duration, bool) {
		t.Helper()
		wait, ok, err := l.Take(ctx, key, every, burst, maxWait)
		storetest.NoErr(t, err)
		return wait, ok
	}

	t.Run("GrantsTheBurstThenRefusesSayingWhen", func(t *testing.T) {
		for i := range burst {
			if wait, ok := take(t, "a", 0); !ok || wait != 0 {
				t.Fatalf("turn %d of the burst: ok %v wait %v; want granted now", i+1, ok, wait)
			}
		}
		for range 5 { // refusals take nothing: the answer stays the same
			if wait, ok := take(t, "a", 0); ok || wait != every {
				t.Fatalf("past the burst: ok %v wait %v; want refused, retry in %v", ok, wait, every)
			}
		}
	})
	t.Run("KeysAreApart", func(t *testing.T) {
		if _, ok := take(t, "b", 0); !ok {
			t.Fatal("another key was refused")
		}
	})
	t.Run("OneTurnComesBackPerInterval", func(t *testing.T) {
		now = now.Add(every)
		if _, ok := take(t, "a", 0); !ok {
			t.Fatal("refused one interval later")
		}
		if _, ok := take(t, "a", 0); ok {
			t.Fatal("granted two turns for one interval")
		}
	})
	t.Run("GrantsAFutureTurnWithinMaxWait", func(t *testing.T) {
		wait, ok := take(t, "a", 250*time.Millisecond)
		if !ok || wait != every {
			t.Fatalf("ok %v wait %v; want the next turn, in %v", ok, wait, every)
		}
		wait, ok = take(t, "a", 250*time.Millisecond)
		if !ok || wait != 2*every {
			t.Fatalf("ok %v wait %v; want the turn after, in %v", ok, wait, 2*every)
		}
		wait, ok = take(t, "a", 250*time.Millisecond)
		if ok || wait != 50*time.Millisecond {
			t.Fatalf("ok %v wait %v; want refused, within reach in 50ms", ok, wait)
		}
	})
	t.Run("GiveHandsATurnBack", func(t *testing.T) {
		storetest.NoErr(t, l.Give(ctx, "a", every))
		if wait, ok := take(t, "a", 250*time.Millisecond); !ok || wait != 2*every {
			t.Fatalf("after Give: ok %v wait %v; want the given-back turn, in %v", ok, wait, 2*every)
		}
	})
	t.Run("IdleRefillsToTheBurstOnly", func(t *testing.T) {
		now = now.Add(time.Hour)
		n := 0
		for ; n < 10; n++ {
			if _, ok := take(t, "a", 0); !ok {
				break
			}
		}
		if n != burst {
			t.Fatalf("after an idle hour %d turns; want the burst, %d", n, burst)
		}
	})
	t.Run("TakeAllStopsAtTheFirstRefusal", func(t *testing.T) {
		// A partner with three turns, its customers with one each, asked
		// partner first as the data API asks.
		all := func(t *testing.T, customer string) (time.Duration, bool) {
			t.Helper()
			wait, ok, err := l.TakeAll(ctx, []string{"p1", customer, "free"}, []time.Duration{every, every, 0}, []int{3, 1, 1})
			storetest.NoErr(t, err)
			return wait, ok
		}
		if _, ok := all(t, "c1"); !ok {
			t.Fatal("first call refused")
		}
		if wait, ok := all(t, "c1"); ok || wait != every {
			t.Fatalf("customer's second call: ok %v wait %v; want refused by the customer, retry in %v", ok, wait, every)
		}
		if _, ok := all(t, "c2"); !ok { // the partner's third turn: the refusal above took the second
			t.Fatal("another customer's call refused")
		}
		if wait, ok := all(t, "c3"); ok || wait != every {
			t.Fatalf("partner spent: ok %v wait %v; want refused by the partner, retry in %v", ok, wait, every)
		}
		// The partner's refusal took nothing from c3: its one turn is there.
		if _, ok, err := l.Take(ctx, "c3", every, 1, 0); !ok || err != nil {
			t.Fatalf("ok %v err %v: a customer the partner's refusal stopped before lost its turn", ok, err)
		}
	})
	t.Run("ZeroIntervalIsNoLimit", func(t *testing.T) {
		for range 100 {
			if _, ok, err := l.Take(ctx, "c", 0, 1, 0); !ok || err != nil {
				t.Fatalf("ok %v err %v", ok, err)
			}
		}
	})
}

// TestLimitsHoldForTheFleet: three handles on one database, as three
// instances have, spend one budget under concurrent load; together they
// get what one instance alone gets, within 10% of the configured figure
// (the burst plus one turn per interval of the window). Per-instance
// buckets would have allowed three times as much.
func TestLimitsHoldForTheFleet(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	fleet := []*postgres.Budgets{openPG(t, url).Budgets(nil), openPG(t, url).Budgets(nil), openPG(t, url).Budgets(nil)}
	const every, burst, window = 10 * time.Millisecond, 10, 2 * time.Second

	// spend has each limiter's callers ask as fast as they can for window
	// and returns the turns granted and the budget configured for the time
	// it really took.
	spend := func(key string, limiters []*postgres.Budgets, pairs bool) (allowed int64, configured float64) {
		var n atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		deadline := start.Add(window)
		for _, l := range limiters {
			for c := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					customer := fmt.Sprint(key, "/", c)
					for time.Now().Before(deadline) {
						var ok bool
						var err error
						if pairs { // as the data API asks: the shared budget, then one that does not bind
							_, ok, err = l.TakeAll(context.Background(), []string{key, customer}, []time.Duration{every, time.Nanosecond}, []int{burst, 1000})
						} else {
							_, ok, err = l.Take(context.Background(), key, every, burst, 0)
						}
						if err != nil {
							t.Error(err)
							return
						}
						if ok {
							n.Add(1)
						}
					}
				}()
			}
		}
		wg.Wait()
		return n.Load(), burst + float64(time.Since(start))/float64(every)
	}
	for _, tc := range []struct {
		name     string
		limiters []*postgres.Budgets
		pairs    bool
	}{
		{"OneInstanceGetsTheFullBudget", fleet[:1], false},
		{"ThreeInstancesShareIt", fleet, false},
		{"ThreeInstancesShareItTakingPairs", fleet, true},
	} {
		allowed, configured := spend(tc.name, tc.limiters, tc.pairs)
		drift := (float64(allowed) - configured) / configured
		t.Logf("%s: allowed %d, configured %.0f, drift %+.1f%%", tc.name, allowed, configured, 100*drift)
		if drift > 0.10 || drift < -0.10 {
			t.Errorf("%s: allowed %d, configured %.0f: drift %+.1f%%, want within 10%%", tc.name, allowed, configured, 100*drift)
		}
	}
}

// TestLimitsDecisionDiesWithItsInstance: a decider that dies holding the
// budget's row (its backend is terminated, as when its instance is killed
// mid-statement) leaves no lock and no trace: the next decision goes
// through at once and sees the budget as it was.
func TestLimitsDecisionDiesWithItsInstance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.PostgresURL(t)
	dying, survivor, admin := openPG(t, url), openPG(t, url).Budgets(nil), openPG(t, url)
	const every, burst = time.Minute, 2
	if _, ok, err := survivor.Take(ctx, "k", every, burst, 0); !ok || err != nil {
		t.Fatalf("first turn: ok %v err %v", ok, err)
	}

	tx, err := dying.Pool().Begin(ctx)
	storetest.NoErr(t, err)
	defer tx.Rollback(ctx)
	var pid int
	storetest.NoErr(t, tx.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	// Mid-decision: the row is locked and moved an hour on, nothing
	// committed yet.
	if _, err := tx.Exec(ctx, `UPDATE rate_limits SET tat = tat + 3600000000000 WHERE key = 'k'`); err != nil {
		t.Fatal(err)
	}
	granted := make(chan bool, 1)
	go func() {
		_, ok, err := survivor.Take(ctx, "k", every, burst, 0)
		if err != nil {
			t.Error(err)
		}
		granted <- ok
	}()
	select {
	case <-granted:
		t.Fatal("a decision went through while another held the row")
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := admin.Pool().Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	select {
	case ok := <-granted:
		if !ok {
			t.Fatal("the second turn of a burst of 2 was refused: the dead decision left its mark")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the decision still waits for a dead instance's lock")
	}
	if _, ok, _ := survivor.Take(ctx, "k", every, burst, 0); ok {
		t.Fatal("a third turn was granted from a burst of 2")
	}
}

// BenchmarkLimitsTake measures decisions a second through three handles,
// on one hot key (every caller a single partner's) and spread over many
// (each caller its own customer).
func BenchmarkLimitsTake(b *testing.B) {
	url := testdb.PostgresURL(b)
	fleet := []*postgres.Budgets{openPG(b, url).Budgets(nil), openPG(b, url).Budgets(nil), openPG(b, url).Budgets(nil)}
	for _, hot := range []bool{true, false} {
		name := map[bool]string{true: "OneKey", false: "KeyPerCaller"}[hot]
		b.Run(name, func(b *testing.B) {
			var callers atomic.Int64
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				n := callers.Add(1)
				l, key := fleet[n%3], name
				if !hot {
					key = fmt.Sprint(name, n)
				}
				for pb.Next() {
					if _, _, err := l.Take(context.Background(), key, time.Nanosecond*1000, 1000, 0); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// TestLimitsSweepNeverWaits holds the lock of one full bucket's row, as a
// decision in flight does, while a handle's first decision sweeps full
// buckets: the decision must not wait for that lock (a DELETE waiting
// there, holding rows a TakeAll wants, is how a deadlock forms), and the
// sweep must still drop the other full bucket and keep the locked one.
func TestLimitsSweepNeverWaits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testdb.PostgresURL(t)
	db := openPG(t, url)
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	for _, key := range []string{"locked", "full"} {
		if _, ok, err := db.Budgets(clock).Take(ctx, key, time.Second, 1, 0); !ok || err != nil {
			t.Fatalf("take %s: ok %v err %v", key, ok, err)
		}
	}
	now = now.Add(10 * time.Second) // both buckets are full again

	tx, err := db.Pool().Begin(ctx)
	storetest.NoErr(t, err)
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT 1 FROM rate_limits WHERE key = 'locked' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { // a new handle: its first decision sweeps
		_, _, err := db.Budgets(clock).TakeAll(ctx, []string{"other"}, []time.Duration{time.Second}, []int{1})
		done <- err
	}()
	select {
	case err := <-done:
		storetest.NoErr(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("a decision waited for a row locked elsewhere while it swept")
	}
	rows, err := db.Pool().Query(ctx, `SELECT key FROM rate_limits ORDER BY key`)
	storetest.NoErr(t, err)
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	storetest.NoErr(t, err)
	if fmt.Sprint(keys) != "[locked other]" {
		t.Fatalf("rows after the sweep: %v, want [locked other] (the full bucket dropped, the locked one kept)", keys)
	}
}
