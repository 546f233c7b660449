package storetest

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/audit"
)

// LeaseOpener opens a fresh database for one test and returns its fleet
// lease and its audit store.
type LeaseOpener func(t testing.TB) (audit.Lease, audit.Store)

// Lease runs the fleet lease's conformance suite (what must run once per
// fleet runs under it) against the engine open returns. The holders here
// share one process; store/postgres adds the tests that need two sessions
// and a killed one.
func Lease(t *testing.T, open LeaseOpener) {
	t.Run("RunsFnAndReturnsItsError", func(t *testing.T) { t.Parallel(); leaseRuns(t, open) })
	t.Run("OneHolderAtATime", func(t *testing.T) { t.Parallel(); leaseExclusive(t, open) })
	t.Run("NamesDoNotContend", func(t *testing.T) { t.Parallel(); leaseNames(t, open) })
	t.Run("WaiterGivesUpWhenCtxEnds", func(t *testing.T) { t.Parallel(); leaseGivesUp(t, open) })
	t.Run("AuditSealsOnlyUnderTheLease", func(t *testing.T) { t.Parallel(); leaseAuditSealer(t, open) })
	t.Run("AuditSealerStopsOnLossAndComesBack", func(t *testing.T) { t.Parallel(); leaseAuditLoss(t, open) })
}

type leaseCtxKey struct{}

func leaseRuns(t *testing.T, open LeaseOpener) {
	l, _ := open(t)
	ctx := context.WithValue(context.Background(), leaseCtxKey{}, "caller")
	boom := errors.New("boom")
	ran := false
	err := l.RunExclusive(ctx, "job", func(ctx context.Context) error {
		ran = true
		if ctx.Value(leaseCtxKey{}) != "caller" {
			t.Error("fn's context does not derive from the caller's")
		}
		return boom
	})
	if !ran || !errors.Is(err, boom) {
		t.Errorf("RunExclusive: ran %v, err %v; want fn run and its error", ran, err)
	}
	// A failed fn released the lease: it is granted again at once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.RunExclusive(ctx, "job", func(context.Context) error { return nil }); err != nil {
		t.Errorf("RunExclusive after a failed holder: %v", err)
	}
}

// holdLease holds name on l until release is called, and returns once it
// is held.
func holdLease(t testing.TB, l audit.Lease, name string) (release func()) {
	t.Helper()
	held, free, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- l.RunExclusive(context.Background(), name, func(context.Context) error {
			close(held)
			<-free
			return nil
		})
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("hold %s: %v", name, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("hold %s: not granted within 10 s", name)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(free)
			if err := <-done; err != nil {
				t.Errorf("hold %s: %v", name, err)
			}
		})
	}
	t.Cleanup(release)
	return release
}

func leaseExclusive(t *testing.T, open LeaseOpener) {
	l, _ := open(t)
	var active, most, runs atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			err := l.RunExclusive(context.Background(), "sweep", func(context.Context) error {
				n := active.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(30 * time.Millisecond)
				active.Add(-1)
				runs.Add(1)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if runs.Load() != 4 || most.Load() != 1 {
		t.Errorf("4 callers: %d ran, at most %d at once; want 4 and 1", runs.Load(), most.Load())
	}
}

func leaseNames(t *testing.T, open LeaseOpener) {
	l, _ := open(t)
	holdLease(t, l, "a")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ran := false
	if err := l.RunExclusive(ctx, "b", func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("b while a is held: ran %v, err %v", ran, err)
	}
}

func leaseGivesUp(t *testing.T, open LeaseOpener) {
	l, _ := open(t)
	release := holdLease(t, l, "seed")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	ran := false
	err := l.RunExclusive(ctx, "seed", func(context.Context) error { ran = true; return nil })
	if ran || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting for a held lease past ctx: ran %v, err %v; want not run, DeadlineExceeded", ran, err)
	}
	// The waiter that gave up left nothing behind: once released, the
	// lease is granted.
	release()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.RunExclusive(ctx, "seed", func(context.Context) error { return nil }); err != nil {
		t.Errorf("after release: %v", err)
	}
}

// leaseAuditSealer: a Log with a Lease appends whoever holds the lease,
// seals only once it holds it, seals its last records on Close as the
// holder, and closes without sealing (and without waiting) as a waiter.
func leaseAuditSealer(t *testing.T, open LeaseOpener) {
	ctx := context.Background()
	l, st := open(t)
	_, key, _ := ed25519.GenerateKey(nil)
	opts := audit.Options{Key: key, Lease: l, SealEvery: 20 * time.Millisecond}
	headSize := func() uint64 {
		h, err := st.LatestHead(ctx)
		if errors.Is(err, audit.ErrNoHead) {
			return 0
		}
		noErr(t, err)
		return h.Size
	}

	release := holdLease(t, l, audit.SealerLease) // another instance seals
	a := audit.New(st, opts)
	appendVia(t, a, 0, 3)
	time.Sleep(300 * time.Millisecond) // 15 seal periods
	if n := headSize(); n != 0 {
		t.Fatalf("a Log without the lease signed a head of %d records", n)
	}
	release() // the other instance is gone: a takes over
	for deadline := time.Now().Add(10 * time.Second); headSize() != 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no head of 3 records within 10 s of the lease being free (head: %d)", headSize())
		}
	}

	// b waits for the lease a holds: it appends, and closes without sealing.
	b := audit.New(st, opts)
	appendVia(t, b, 3, 1)
	began := time.Now()
	b.Close()
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("Close of a Log waiting for the lease took %s", took)
	}
	appendVia(t, a, 4, 2)
	a.Close() // the holder seals what it has, b's record too
	if n := headSize(); n != 6 {
		t.Errorf("after the holder's Close the head covers %d records, want 6", n)
	}
}

// losable wraps a lease so that a test can take it away from its holder,
// as a dead lock connection does: each value sent on lose cancels the
// context of the holder at that moment.
type losable struct {
	audit.Lease
	lose chan struct{}
}

func (l losable) RunExclusive(ctx context.Context, name string, fn func(context.Context) error) error {
	return l.Lease.RunExclusive(ctx, name, func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-l.lose:
				cancel()
			case <-ctx.Done():
			}
		}()
		return fn(ctx)
	})
}

// leaseAuditLoss: a sealer whose lease is lost stops sealing at once, and
// seals again once it holds the lease again.
func leaseAuditLoss(t *testing.T, open LeaseOpener) {
	ctx := context.Background()
	l, st := open(t)
	_, key, _ := ed25519.GenerateKey(nil)
	ll := losable{Lease: l, lose: make(chan struct{}, 1)}
	log := audit.New(st, audit.Options{Key: key, Lease: ll, SealEvery: 20 * time.Millisecond})
	defer log.Close()
	waitHead := func(size uint64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if h, err := st.LatestHead(ctx); err == nil && h.Size == size {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no head of %d records within 10 s", size)
			}
		}
	}
	appendVia(t, log, 0, 2)
	waitHead(2)
	// Take the lease away, and hold it "elsewhere" the moment it is free.
	ll.lose <- struct{}{}
	release := holdLease(t, l, audit.SealerLease)
	appendVia(t, log, 2, 2)
	time.Sleep(300 * time.Millisecond) // 15 seal periods
	if h, err := st.LatestHead(ctx); err != nil || h.Size != 2 {
		t.Fatalf("after losing its lease the sealer signed %d records (%v), want it stopped at 2", h.Size, err)
	}
	release()
	waitHead(4)
}
