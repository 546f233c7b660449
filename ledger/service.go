package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Options tune a Service. The zero value works.
type Options struct {
	// Batchers is how many batches may be in flight at once. SQLite has one
	// writer, so 1; PostgreSQL overlaps a batch's commit with the next.
	Batchers int
	// MaxBatch bounds the ops in one database transaction.
	MaxBatch int
	// Now returns the time; tests inject a clock.
	Now func() time.Time
	// OnBatch, if set, is told of every batch: its size, how long the store
	// took and its error (nil when committed). It runs on the batcher, so it
	// must be quick: the edge uses it for metrics.
	OnBatch func(ops int, took time.Duration, err error)
}

// Service is the ledger's front door: it validates requests and group-commits
// them, many callers to one database transaction, each answered only once its
// transfer is durable (the transaction committed).
type Service struct {
	store Store
	opts  Options
	queue chan *call
	wg    sync.WaitGroup
	once  sync.Once
	done  chan struct{}
}

type call struct {
	op  Op
	res chan Result
}

// New returns a Service over store and starts its batchers; Close stops them.
func New(store Store, opts Options) *Service {
	if opts.Batchers <= 0 {
		opts.Batchers = 1
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{store: store, opts: opts, queue: make(chan *call, 4*opts.MaxBatch), done: make(chan struct{})}
	for range opts.Batchers {
		s.wg.Add(1)
		go s.batcher()
	}
	return s
}

// Store returns the store the service writes to, for reads.
func (s *Service) Store() Store { return s.store }

// Close stops accepting work, finishes the batches in flight and returns.
func (s *Service) Close() {
	s.once.Do(func() { close(s.done) })
	s.wg.Wait()
}

// Transfer validates r and books it. A retry with the same Client and Key
// returns the first transfer and moves nothing (Result.Replayed is reported
// through the second value); the same key with another request is
// ErrKeyReused. If ctx ends first the transfer may still be booked: retry
// with the same key to learn its outcome.
func (s *Service) Transfer(ctx context.Context, r Request) (Transfer, bool, error) {
	if err := r.Validate(); err != nil {
		return Transfer{}, false, err
	}
	res, err := s.submit(ctx, Op{Kind: OpCreate, Request: r, Hash: r.Hash()})
	if err != nil {
		return Transfer{}, false, err
	}
	return res.Transfer, res.Replayed, res.Err
}

// Post turns a pending transfer (a hold) into a movement of money. Posting a
// posted transfer again is a no-op; posting a voided one is ErrNotPending.
func (s *Service) Post(ctx context.Context, id TransferID) (Transfer, error) {
	return s.settle(ctx, OpPost, id)
}

// Void releases a pending transfer's hold. Voiding twice is a no-op; voiding
// a posted transfer is ErrNotPending.
func (s *Service) Void(ctx context.Context, id TransferID) (Transfer, error) {
	return s.settle(ctx, OpVoid, id)
}

func (s *Service) settle(ctx context.Context, k OpKind, id TransferID) (Transfer, error) {
	res, err := s.submit(ctx, Op{Kind: k, Transfer: id})
	if err != nil {
		return Transfer{}, err
	}
	return res.Transfer, res.Err
}

func (s *Service) submit(ctx context.Context, op Op) (Result, error) {
	c := &call{op: op, res: make(chan Result, 1)}
	select {
	case s.queue <- c:
	case <-s.done:
		return Result{}, ErrBusy.WithOp("ledger.submit", fmt.Errorf("service closed"))
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	select {
	case r := <-c.res:
		return r, nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// batcher takes the first waiting call, then whatever else is already queued
// up to MaxBatch, and applies them in one transaction. Under light load a
// batch is one call, so latency stays that of a single commit; under heavy
// load batches grow while the previous commit runs.
func (s *Service) batcher() {
	defer s.wg.Done()
	batch := make([]*call, 0, s.opts.MaxBatch)
	ops := make([]Op, 0, s.opts.MaxBatch)
	for {
		batch, ops = batch[:0], ops[:0]
		select {
		case c := <-s.queue:
			batch = append(batch, c)
		case <-s.done:
			return
		}
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case c := <-s.queue:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		for _, c := range batch {
			ops = append(ops, c.op)
		}
		start := time.Now()
		results, err := s.apply(ops)
		if s.opts.OnBatch != nil {
			s.opts.OnBatch(len(ops), time.Since(start), err)
		}
		for i, c := range batch {
			if err != nil {
				c.res <- Result{Err: err}
			} else {
				c.res <- results[i]
			}
		}
	}
}

// errApply is a batch the store refused for a reason that retrying will
// not change (a constraint it should never meet, a bug): nothing of the
// batch was written, and the caller must not be told to retry.
var errApply = bankbridge.E(bankbridge.Internal, "internal", "internal error")

// apply runs one batch, retrying a bounded number of times when the store
// reports a transient failure (a serialization conflict, a lock timeout).
// Only those become ErrBusy once the attempts are spent; any other failure
// is internal and keeps its cause for the edge's log.
// Callers' contexts are not used: once queued, a batch runs to its end so
// that no caller's cancellation can abort its neighbours' transfers.
func (s *Service) apply(ops []Op) ([]Result, error) {
	const attempts = 3
	var err error
	for i := range attempts {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var res []Result
		res, err = s.store.Apply(ctx, ops, s.opts.Now())
		cancel()
		if err == nil {
			return res, nil
		}
		if !transient(err) {
			return nil, errApply.WithOp("ledger.apply", err)
		}
		time.Sleep(time.Duration(i+1) * 5 * time.Millisecond)
	}
	return nil, ErrBusy.WithOp("ledger.apply", err)
}

// transient reports whether a store failure may pass on its own: the store
// said Unavailable (busy, a serialization failure, a deadlock, a lock
// timeout), or the attempt ran out of its own time.
func transient(err error) bool {
	return bankbridge.ErrorKind(err) == bankbridge.Unavailable || errors.Is(err, context.DeadlineExceeded)
}
