package messenger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bankbridge/bankbridge/channels/messenger"
	"github.com/google/go-cmp/cmp"
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

// fakeTurns answers Take with its fields and records what it was asked.
type fakeTurns struct {
	wait  time.Duration
	ok    bool
	err   error
	asked []string
	given []string
}

func (f *fakeTurns) Take(_ context.Context, key string, every time.Duration, burst int, maxWait time.Duration) (time.Duration, bool, error) {
	f.asked = append(f.asked, fmt.Sprint(key, " ", every, " ", burst, " ", maxWait))
	return f.wait, f.ok, f.err
}

func (f *fakeTurns) Give(_ context.Context, key string, every time.Duration) error {
	f.given = append(f.given, fmt.Sprint(key, " ", every))
	return nil
}

func TestFleetPacer(t *testing.T) {
	t.Parallel()
	t.Run("WaitsForTheTurnTheStoreGrants", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			f := &fakeTurns{wait: 300 * time.Millisecond, ok: true}
			p := messenger.NewFleetPacer(f, "send:messenger", 200, 50, nil, nil)
			start := time.Now()
			if err := p.Wait(context.Background(), 5*time.Second); err != nil {
				t.Fatal(err)
			}
			if got := time.Since(start); got != 300*time.Millisecond {
				t.Errorf("waited %v, want the store's 300ms", got)
			}
			if diff := cmp.Diff([]string{"send:messenger 5ms 50 5s"}, f.asked); diff != "" {
				t.Errorf("asked the store (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("RefusedIsThrottled", func(t *testing.T) {
		t.Parallel()
		p := messenger.NewFleetPacer(&fakeTurns{wait: time.Second}, "k", 1, 1, nil, nil)
		if err := p.Wait(context.Background(), 0); !errors.Is(err, messenger.ErrThrottled) {
			t.Fatalf("refused by the store: %v, want ErrThrottled", err)
		}
	})
	t.Run("CancelledWaitGivesItsTurnBack", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			f := &fakeTurns{wait: time.Second, ok: true}
			p := messenger.NewFleetPacer(f, "k", 10, 1, nil, nil)
			gone, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			if err := p.Wait(gone, 5*time.Second); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("abandoned wait: %v", err)
			}
			if diff := cmp.Diff([]string{"k 100ms"}, f.given); diff != "" {
				t.Errorf("given back (-want +got):\n%s", diff)
			}
		})
	})
	t.Run("StoreDownPacesPerInstance", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			p := messenger.NewFleetPacer(&fakeTurns{err: errors.New("connection refused")}, "k", 1, 1, nil, nil)
			if err := p.Wait(context.Background(), 0); err != nil {
				t.Fatalf("first call with the store down: %v, want the local bucket's turn", err)
			}
			if err := p.Wait(context.Background(), 0); !errors.Is(err, messenger.ErrThrottled) {
				t.Fatalf("second call at once with the store down: %v, want the local bucket to throttle", err)
			}
		})
	})
}
