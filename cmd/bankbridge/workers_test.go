package main

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
)

// TestWorkersStopWaits checks that stop cancels every worker and returns
// only once each has returned, and runs the cleanups after that, in
// reverse order: what serve closes next is no longer in use.
func TestWorkersStopWaits(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var mu sync.Mutex
	w := newWorkers(context.Background(), slog.New(slog.NewTextHandler(&buf, nil)))
	var order []string
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	var finished atomic.Int32
	for range 3 {
		w.Go("slow", func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(20 * time.Millisecond) // a query finishing after the cancel
			finished.Add(1)
			note("worker")
			return ctx.Err()
		})
	}
	w.Go("broken", func(ctx context.Context) error { return errors.New("sweep failed") })
	w.Cleanup(func() { note("first cleanup") })
	w.Cleanup(func() { note("second cleanup") })
	time.Sleep(10 * time.Millisecond) // let "broken" fail before the stop
	w.stop()
	if got := finished.Load(); got != 3 {
		t.Fatalf("stop returned with %d of 3 workers finished", got)
	}
	want := "worker worker worker second cleanup first cleanup"
	if got := strings.Join(order, " "); got != want {
		t.Errorf("order = %q, want %q", got, want)
	}
	w.stop() // again: nothing happens
	if got := strings.Join(order, " "); got != want {
		t.Errorf("a second stop ran something: %q", got)
	}
	if log := buf.String(); !strings.Contains(log, "worker=broken") || !strings.Contains(log, "sweep failed") || strings.Contains(log, "worker=slow") {
		t.Errorf("log = %q, want the broken worker's error only (a cancelled worker is not an error)", log)
	}
}
