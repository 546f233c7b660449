package sqlite

import (
	"context"
	"sync"
)

// Lease is the SQLite engine's side of the fleet lease that store/postgres
// implements with advisory locks. A SQLite database belongs to one process,
// which is a fleet of one, so the lease is always granted to it; callers in
// that process that ask for one name still take turns, as instances do on
// PostgreSQL, so that code above behaves the same on both engines.
type Lease struct {
	mu    sync.Mutex
	slots map[string]chan struct{} // one token per name; a full channel is a held lease
}

// Lease returns the database's lease.
func (db *DB) Lease() *Lease { return &db.lease }

// RunExclusive waits until no other caller of this process runs under
// name, then runs fn and returns its error; ctx's error if ctx ended while
// waiting, without running fn. The lease is never lost.
func (l *Lease) RunExclusive(ctx context.Context, name string, fn func(context.Context) error) error {
	l.mu.Lock()
	if l.slots == nil {
		l.slots = map[string]chan struct{}{}
	}
	slot := l.slots[name]
	if slot == nil {
		slot = make(chan struct{}, 1)
		l.slots[name] = slot
	}
	l.mu.Unlock()
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-slot }()
	return fn(ctx)
}
