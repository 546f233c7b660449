package backoff_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bankbridge/bankbridge/backoff"
)

func TestDelay(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Base: time.Second, Max: 10 * time.Second}
	for _, c := range []struct {
		name   string
		n      int
		center time.Duration
	}{
		{"FirstRetryIsAboutBase", 1, time.Second},
		{"BelowOneCountsAsOne", 0, time.Second},
		{"Doubles", 3, 4 * time.Second},
		{"StopsAtMax", 5, 10 * time.Second},
		{"NeverOverflows", 1000, 10 * time.Second},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			lo := c.center - time.Duration(float64(c.center)*backoff.Jitter)
			hi := min(c.center+time.Duration(float64(c.center)*backoff.Jitter), p.Max)
			seen := map[time.Duration]bool{}
			for range 200 {
				d := p.Delay(c.n)
				if d < lo || d > hi {
					t.Fatalf("Delay(%d) = %v, want within [%v, %v]", c.n, d, lo, hi)
				}
				seen[d] = true
			}
			if len(seen) < 2 {
				t.Errorf("Delay(%d) gave %d distinct waits in 200: no jitter", c.n, len(seen))
			}
		})
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		if err := backoff.Sleep(context.Background(), time.Second); err != nil || time.Since(start) != time.Second {
			t.Errorf("Sleep(1s) = %v after %v", err, time.Since(start))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start = time.Now()
		if err := backoff.Sleep(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 100*time.Millisecond {
			t.Errorf("Sleep cancelled after 100ms = %v after %v", err, time.Since(start))
		}
	})
}
