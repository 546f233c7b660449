package main

import (
	"context"
	"log/slog"
	"sync"
)

// workers owns serve's long-running goroutines (session purge, consent
// sweep, notifications, the alerts worker or its relay, consumer and
// dispatcher): each runs under the group's context, and stop cancels that
// and waits for every one to return, then runs the cleanups, so nothing is
// still in a query when the stores close. A worker's error is logged; it
// does not stop the others, as a failed sweep should not stop the bank.
type workers struct {
	ctx      context.Context
	cancel   context.CancelFunc
	log      *slog.Logger
	wg       sync.WaitGroup
	once     sync.Once
	mu       sync.Mutex
	cleanups []func()
}

func newWorkers(ctx context.Context, log *slog.Logger) *workers {
	ctx, cancel := context.WithCancel(ctx)
	return &workers{ctx: ctx, cancel: cancel, log: log}
}

// Go runs fn in a goroutine of the group. fn must return once its context
// is done; an error it returns before then is logged under name.
func (w *workers) Go(name string, fn func(context.Context) error) {
	w.wg.Go(func() {
		if err := fn(w.ctx); err != nil && w.ctx.Err() == nil {
			w.log.Error("worker stopped", "worker", name, "err", err)
		}
	})
}

// Cleanup registers f to run once every worker has returned (a connection
// they share); cleanups run in reverse order.
func (w *workers) Cleanup(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cleanups = append(w.cleanups, f)
}

// stop cancels the workers, waits for them and runs the cleanups. It may be
// called more than once.
func (w *workers) stop() {
	w.once.Do(func() {
		w.cancel()
		w.wg.Wait()
		w.mu.Lock()
		defer w.mu.Unlock()
		for i := len(w.cleanups) - 1; i >= 0; i-- {
			w.cleanups[i]()
		}
	})
}
