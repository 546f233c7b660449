package messenger_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bankbridge/bankbridge/channels/messenger"
)

func TestPacer(t *testing.T) {
	t.Parallel()
	// One call a second, none saved up beyond one: after the first call
	// the next turn is a second away.
	t.Run("CancelledWaitGivesItsTurnBack", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			p := messenger.NewPacer(1, 1, nil)
			ctx := context.Background()
			if err := p.Wait(ctx, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			gone, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			if err := p.Wait(gone, 5*time.Second); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("abandoned wait: %v", err)
			}
			start := time.Now()
			if err := p.Wait(ctx, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != 900*time.Millisecond {
				t.Errorf("next call waited %v, want 900ms: the abandoned turn was kept", got)
			}
		})
	})
	t.Run("TooFarIsThrottledAndFree", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			p := messenger.NewPacer(1, 1, nil)
			ctx := context.Background()
			if err := p.Wait(ctx, 0); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := p.Wait(ctx, 500*time.Millisecond); !errors.Is(err, messenger.ErrThrottled) {
				t.Fatalf("a turn 1s away with 500ms to wait: %v", err)
			}
			if time.Since(start) != 0 {
				t.Errorf("throttled after %v, want at once", time.Since(start))
			}
			if err := p.Wait(ctx, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != time.Second {
				t.Errorf("next call waited %v, want 1s: the refused turn was kept", got)
			}
		})
	})
}
