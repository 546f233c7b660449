package dataapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/dataapi"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t.Run("BurstThenOneASecond", func(t *testing.T) {
		t.Parallel()
		now := start
		l := dataapi.NewLimiter(func() time.Time { return now })
		for i := range 10 {
			if ok, _ := l.Allow(ctx, "p:a", 60); !ok {
				t.Fatalf("call %d of the burst refused", i+1)
			}
		}
		ok, wait := l.Allow(ctx, "p:a", 60)
		if ok || wait != time.Second {
			t.Fatalf("11th call: ok=%v wait=%v, want refused for 1s", ok, wait)
		}
		now = now.Add(time.Second)
		if ok, _ := l.Allow(ctx, "p:a", 60); !ok {
			t.Fatal("refused after a second")
		}
	})
	t.Run("RefusalSpendsNothing", func(t *testing.T) {
		t.Parallel()
		now := start
		l := dataapi.NewLimiter(func() time.Time { return now })
		for range 10 {
			l.Allow(ctx, "p:a", 60)
		}
		for range 50 { // a partner hammering while refused
			if ok, wait := l.Allow(ctx, "p:a", 60); ok || wait != time.Second {
				t.Fatalf("while empty: ok=%v wait=%v", ok, wait)
			}
		}
		now = now.Add(time.Second)
		if ok, _ := l.Allow(ctx, "p:a", 60); !ok {
			t.Fatal("the refused calls used up the next token")
		}
	})
	t.Run("KeysAreApart", func(t *testing.T) {
		t.Parallel()
		l := dataapi.NewLimiter(func() time.Time { return start })
		for range 10 {
			l.Allow(ctx, "p:a", 60)
		}
		if ok, _ := l.Allow(ctx, "p:b", 60); !ok {
			t.Fatal("another key refused")
		}
	})
	t.Run("ANewLimitApplies", func(t *testing.T) {
		t.Parallel()
		now := start
		l := dataapi.NewLimiter(func() time.Time { return now })
		for range 10 {
			l.Allow(ctx, "p:a", 60)
		}
		if ok, _ := l.Allow(ctx, "p:a", 60); ok {
			t.Fatal("11th call allowed")
		}
		// The partner's limit is raised to 6000 a minute, a token every
		// 10 ms (at 60 it is one a second): it applies from the first call
		// that carries it.
		if ok, wait := l.Allow(ctx, "p:a", 6000); ok || wait != 10*time.Millisecond {
			t.Fatalf("at the change: ok=%v wait=%v, want refused for 10ms", ok, wait)
		}
		now = now.Add(10 * time.Millisecond)
		if ok, _ := l.Allow(ctx, "p:a", 6000); !ok {
			t.Fatal("refused under the raised limit")
		}
	})
	t.Run("ZeroIsNoLimit", func(t *testing.T) {
		t.Parallel()
		l := dataapi.NewLimiter(func() time.Time { return start })
		for range 100 {
			if ok, _ := l.Allow(ctx, "p:a", 0); !ok {
				t.Fatal("refused without a limit")
			}
		}
	})
}
