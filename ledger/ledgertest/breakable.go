// Package ledgertest helps tests see how the layers above the ledger answer
// its failures: Breakable is a ledger.Store that is the real one until a
// test makes its Apply fail. It is for tests only; nothing in the product
// may import it.
package ledgertest

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
)

// Breakable wraps a ledger.Store (nil when a test needs Apply only) and,
// once Fail is called with an error, answers every Apply with it, writing
// nothing, as a store with a violated constraint, a bug or a busy database
// would.
type Breakable struct {
	ledger.Store
	err   atomic.Pointer[error]
	calls atomic.Int32
}

var _ ledger.Store = (*Breakable)(nil)

// Fail makes every Apply from now on fail with err; nil heals the store.
func (b *Breakable) Fail(err error) {
	if err == nil {
		b.err.Store(nil)
		return
	}
	b.err.Store(&err)
}

// Calls reports how many times Apply was called.
func (b *Breakable) Calls() int { return int(b.calls.Load()) }

// Apply fails with the error given to Fail, or applies ops to the wrapped
// store.
func (b *Breakable) Apply(ctx context.Context, ops []ledger.Op, now time.Time) ([]ledger.Result, error) {
	b.calls.Add(1)
	if err := b.err.Load(); err != nil {
		return nil, *err
	}
	return b.Store.Apply(ctx, ops, now)
}
