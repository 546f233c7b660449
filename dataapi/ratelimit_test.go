package dataapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/google/go-cmp/cmp"
)

// spent returns a limiter whose key "p:a" (60 calls a minute: a burst of
// 10, then one a second) has just used its whole burst, all 10 allowed,
// and a function that moves the limiter's clock on.
func spent(t *testing.T) (dataapi.Limiter, func(time.Duration)) {
	t.Helper()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := dataapi.NewLimiter(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })
	for i := range 10 {
		if ok, _ := l.Allow(context.Background(), dataapi.Budget{Key: "p:a", PerMinute: 60}); !ok {
			t.Fatalf("call %d of the burst refused", i+1)
		}
	}
	return l, func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name string
		run  func(t *testing.T, l dataapi.Limiter, wait func(time.Duration))
	}{
		{"RefusedForASecondAfterTheBurst", func(t *testing.T, l dataapi.Limiter, wait func(time.Duration)) {
			if ok, after := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 60}); ok || after != time.Second {
				t.Fatalf("11th call: ok=%v retryAfter=%v, want refused for 1s", ok, after)
			}
			wait(time.Second)
			if ok, _ := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 60}); !ok {
				t.Fatal("refused after a second")
			}
		}},
		{"RefusalSpendsNothing", func(t *testing.T, l dataapi.Limiter, wait func(time.Duration)) {
			for range 50 { // a partner hammering while refused
				if ok, after := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 60}); ok || after != time.Second {
					t.Fatalf("while empty: ok=%v retryAfter=%v", ok, after)
				}
			}
			wait(time.Second)
			if ok, _ := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 60}); !ok {
				t.Fatal("the refused calls used up the next token")
			}
		}},
		{"StopsAtTheFirstBudgetThatRefuses", func(t *testing.T, l dataapi.Limiter, _ func(time.Duration)) {
			if ok, after := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 60}, dataapi.Budget{Key: "c:a:1", PerMinute: 60}); ok || after != time.Second {
				t.Fatalf("partner spent: ok=%v retryAfter=%v, want refused for 1s", ok, after)
			}
			for i := range 10 { // the customer's burst is whole: the partner's refusal took nothing from it
				if ok, _ := l.Allow(ctx, dataapi.Budget{Key: "c:a:1", PerMinute: 60}); !ok {
					t.Fatalf("customer's call %d refused", i+1)
				}
			}
		}},
		{"KeysAreApart", func(t *testing.T, l dataapi.Limiter, _ func(time.Duration)) {
			if ok, _ := l.Allow(ctx, dataapi.Budget{Key: "p:b", PerMinute: 60}); !ok {
				t.Fatal("another key refused")
			}
		}},
		{"ANewLimitAppliesFromTheCallThatCarriesIt", func(t *testing.T, l dataapi.Limiter, wait func(time.Duration)) {
			// Raised to 6000 a minute: a token every 10 ms, where 60 gave
			// one a second.
			if ok, after := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 6000}); ok || after != 10*time.Millisecond {
				t.Fatalf("at the change: ok=%v retryAfter=%v, want refused for 10ms", ok, after)
			}
			wait(10 * time.Millisecond)
			if ok, _ := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 6000}); !ok {
				t.Fatal("refused under the raised limit")
			}
		}},
		{"ZeroIsNoLimit", func(t *testing.T, l dataapi.Limiter, _ func(time.Duration)) {
			for range 100 {
				if ok, _ := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 0}); !ok {
					t.Fatal("refused without a limit")
				}
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			l, wait := spent(t)
			c.run(t, l, wait)
		})
	}
}

// turnsFunc is a dataapi.Turns that records what it was asked.
type turnsFunc func(keys []string, every []time.Duration, burst []int) (time.Duration, bool, error)

func (f turnsFunc) TakeAll(_ context.Context, keys []string, every []time.Duration, burst []int) (time.Duration, bool, error) {
	return f(keys, every, burst)
}

func TestFleetLimiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("AsksTheStoreOnceWithTheSameBudgetsAsOneInstance", func(t *testing.T) {
		t.Parallel()
		var got []any
		l := dataapi.NewFleetLimiter(turnsFunc(func(keys []string, every []time.Duration, burst []int) (time.Duration, bool, error) {
			got = append(got, keys, every, burst)
			return 3 * time.Second, false, nil
		}), nil, nil)
		ok, after := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 600}, dataapi.Budget{Key: "none", PerMinute: 0}, dataapi.Budget{Key: "c:a:1", PerMinute: 60})
		if ok || after != 3*time.Second {
			t.Errorf("Allow: ok=%v retryAfter=%v; want the store's refusal, 3s", ok, after)
		}
		// 600 a minute: a turn every 100 ms, a burst of 60 (a tenth); 60 a
		// minute: one a second, a burst of 10 (at least 10); no limit is
		// not asked.
		want := []any{[]string{"p:a", "c:a:1"}, []time.Duration{100 * time.Millisecond, time.Second}, []int{60, 10}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("asked the store (-want +got):\n%s", diff)
		}
		if ok, _ := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 0}); !ok || len(got) != 3 {
			t.Errorf("no limit: ok=%v, store asked %d times; want allowed without asking", ok, len(got)/3)
		}
	})
	t.Run("FallsBackToThisInstanceWhileTheStoreIsDownAndSaysSo", func(t *testing.T) {
		t.Parallel()
		var down atomic.Bool
		down.Store(true)
		var logs bytes.Buffer
		l := dataapi.NewFleetLimiter(turnsFunc(func([]string, []time.Duration, []int) (time.Duration, bool, error) {
			if down.Load() {
				return 0, false, errors.New("connection refused")
			}
			return 0, true, nil
		}), slog.New(slog.NewTextHandler(&logs, nil)), nil)
		allowed := 0
		for range 20 {
			if ok, _ := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 60}); ok {
				allowed++
			}
		}
		if allowed != 10 {
			t.Errorf("store down: %d of 20 allowed; want the local burst, 10", allowed)
		}
		down.Store(false)
		if ok, _ := l.Allow(ctx, dataapi.Budget{Key: "p:a", PerMinute: 60}); !ok {
			t.Error("store back: refused; want the store's answer")
		}
		if n, m := strings.Count(logs.String(), "unavailable"), strings.Count(logs.String(), "rate limits are back"); n != 1 || m != 1 {
			t.Errorf("logged %d outages and %d recoveries; want one each:\n%s", n, m, logs.String())
		}
	})
}
