package insights

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/backoff"
)

// Recorder takes events from request handlers and writes them in batches
// off the request path. Record never blocks: events go to a bounded buffer,
// and when the buffer is full the event is dropped and counted (Stats) -
// losing an engagement event is better than slowing a customer down, and a
// full buffer means the database is not keeping up, where waiting would
// only make it worse. A background goroutine takes up to MaxBatch events at
// a time (or whatever arrived within FlushEvery), fills in each customer's
// segment, and hands the batch to the Ingester; a batch that fails is
// retried a few times, then dropped and counted. Close stops taking events,
// writes what is buffered and returns.
type Recorder struct {
	ing  Ingester
	seg  Segments
	o    RecorderOptions
	ch   chan Event
	mu   sync.RWMutex // held for reading by Record, for writing by Close
	shut bool
	done chan struct{}
	stop chan struct{}

	recorded, written, dropped, failed atomic.Int64
}

// RecorderOptions tune a Recorder. The zero value gives the defaults.
type RecorderOptions struct {
	// Buffer is how many events may wait; default 65,536 (a few MB).
	Buffer int
	// MaxBatch is the most events written in one transaction; default 2,000.
	MaxBatch int
	// FlushEvery is the longest an event waits for its batch; default 1s.
	FlushEvery time.Duration
	// Retries is how many times a failed batch is tried again; default 3.
	// An Unavailable database is waited for past it, up to 30 s a batch.
	Retries int
	// Logger receives failures; default discards.
	Logger *slog.Logger
}

// Segments tells the segment of customers: their birth year and products.
type Segments interface {
	Segments(ctx context.Context, ids []bankbridge.CustomerID) (map[bankbridge.CustomerID]Segmentation, error)
}

// Segmentation is what segments a customer.
type Segmentation struct {
	BirthYear int
	Products  Products
}

// NewRecorder starts a Recorder writing through ing. seg may be nil when
// every event arrives segmented.
func NewRecorder(ing Ingester, seg Segments, o RecorderOptions) *Recorder {
	if o.Buffer <= 0 {
		o.Buffer = 65536
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 2000
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
	if o.Retries <= 0 {
		o.Retries = 3
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Recorder{ing: ing, seg: seg, o: o, ch: make(chan Event, o.Buffer), done: make(chan struct{}), stop: make(chan struct{})}
	go r.loop()
	return r
}

// Record queues e for writing. It never blocks and never fails: an invalid
// event, an event after Close, or one that finds the buffer full is dropped
// and counted.
func (r *Recorder) Record(e Event) {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	if e.Validate() != nil {
		r.dropped.Add(1)
		return
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.shut {
		r.dropped.Add(1)
		return
	}
	select {
	case r.ch <- e:
		r.recorded.Add(1)
	default:
		r.dropped.Add(1)
	}
}

// RecorderStats count what happened to the events given to Record.
type RecorderStats struct {
	Recorded int64 // accepted into the buffer
	Written  int64 // folded into the rollups
	Dropped  int64 // refused: invalid, buffer full, or after Close
	Failed   int64 // accepted but lost: their batch failed every retry
	Buffered int   // waiting now
}

// Stats returns the counters.
func (r *Recorder) Stats() RecorderStats {
	return RecorderStats{Recorded: r.recorded.Load(), Written: r.written.Load(), Dropped: r.dropped.Load(),
		Failed: r.failed.Load(), Buffered: len(r.ch)}
}

// Close stops taking events, writes the ones buffered and returns when they
// are written or ctx ends (then the rest are counted as failed).
func (r *Recorder) Close(ctx context.Context) error {
	r.mu.Lock()
	if !r.shut {
		r.shut = true
		close(r.stop)
	}
	r.mu.Unlock()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Recorder) loop() {
	defer close(r.done)
	batch := make([]Event, 0, r.o.MaxBatch)
	t := time.NewTimer(r.o.FlushEvery)
	defer t.Stop()
	for {
		select {
		case e := <-r.ch:
			batch = append(batch, e)
			if len(batch) < r.o.MaxBatch {
				continue
			}
		case <-t.C:
		case <-r.stop:
			// No Record runs any more (Close held the lock): drain.
			for {
				select {
				case e := <-r.ch:
					batch = append(batch, e)
					if len(batch) == r.o.MaxBatch {
						r.write(batch)
						batch = batch[:0]
					}
					continue
				default:
				}
				break
			}
			r.write(batch)
			return
		}
		r.write(batch)
		batch = batch[:0]
		t.Reset(r.o.FlushEvery)
	}
}

// write segments and ingests one batch, retrying a bounded number of times
// (Options.Retries) with the one backoff; a database that is briefly away
// (Kind Unavailable: a restart, a failover) is waited for longer, until the
// batch's 30 s are spent, so a PostgreSQL restart loses no engagement.
func (r *Recorder) write(batch []Event) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	for try := 0; ; try++ {
		if try > 0 && backoff.Sleep(ctx, writeBackoff.Delay(try)) != nil {
			break
		}
		if err = r.segment(ctx, batch); err == nil {
			if err = r.ing.Ingest(ctx, batch); err == nil {
				r.written.Add(int64(len(batch)))
				return
			}
		}
		if errors.Is(err, ErrEvent) {
			break // no retry makes an invalid batch valid
		}
		if try >= r.o.Retries && bankbridge.ErrorKind(err) != bankbridge.Unavailable {
			break
		}
	}
	r.failed.Add(int64(len(batch)))
	r.o.Logger.Error("insights: batch lost", slog.Int("events", len(batch)), slog.Any("err", err))
}

// writeBackoff spaces a batch's tries: 100 ms, 200 ms, 400 ms... at most 5 s.
var writeBackoff = backoff.Policy{Base: 100 * time.Millisecond, Max: 5 * time.Second}

func (r *Recorder) segment(ctx context.Context, batch []Event) error {
	var ids []bankbridge.CustomerID
	seen := map[bankbridge.CustomerID]bool{}
	for _, e := range batch {
		if !e.Segmented && !seen[e.Customer] {
			seen[e.Customer] = true
			ids = append(ids, e.Customer)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var segs map[bankbridge.CustomerID]Segmentation
	if r.seg != nil {
		var err error
		if segs, err = r.seg.Segments(ctx, ids); err != nil {
			return err
		}
	}
	for i := range batch {
		if !batch[i].Segmented {
			s := segs[batch[i].Customer] // unknown customers: unknown band, no products
			batch[i].BirthYear, batch[i].Products, batch[i].Segmented = s.BirthYear, s.Products, true
		}
	}
	return nil
}
