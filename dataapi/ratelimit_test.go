package dataapi_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/dataapi"
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
		if ok, _ := l.Allow(context.Background(), "p:a", 60); !ok {
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
			if ok, after := l.Allow(ctx, "p:a", 60); ok || after != time.Second {
				t.Fatalf("11th call: ok=%v retryAfter=%v, want refused for 1s", ok, after)
			}
			wait(time.Second)
			if ok, _ := l.Allow(ctx, "p:a", 60); !ok {
				t.Fatal("refused after a second")
			}
		}},
		{"RefusalSpendsNothing", func(t *testing.T, l dataapi.Limiter, wait func(time.Duration)) {
			for range 50 { // a partner hammering while refused
				if ok, after := l.Allow(ctx, "p:a", 60); ok || after != time.Second {
					t.Fatalf("while empty: ok=%v retryAfter=%v", ok, after)
				}
			}
			wait(time.Second)
			if ok, _ := l.Allow(ctx, "p:a", 60); !ok {
				t.Fatal("the refused calls used up the next token")
			}
		}},
		{"KeysAreApart", func(t *testing.T, l dataapi.Limiter, _ func(time.Duration)) {
			if ok, _ := l.Allow(ctx, "p:b", 60); !ok {
				t.Fatal("another key refused")
			}
		}},
		{"ANewLimitAppliesFromTheCallThatCarriesIt", func(t *testing.T, l dataapi.Limiter, wait func(time.Duration)) {
			// Raised to 6000 a minute: a token every 10 ms, where 60 gave
			// one a second.
			if ok, after := l.Allow(ctx, "p:a", 6000); ok || after != 10*time.Millisecond {
				t.Fatalf("at the change: ok=%v retryAfter=%v, want refused for 10ms", ok, after)
			}
			wait(10 * time.Millisecond)
			if ok, _ := l.Allow(ctx, "p:a", 6000); !ok {
				t.Fatal("refused under the raised limit")
			}
		}},
		{"ZeroIsNoLimit", func(t *testing.T, l dataapi.Limiter, _ func(time.Duration)) {
			for range 100 {
				if ok, _ := l.Allow(ctx, "p:a", 0); !ok {
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
