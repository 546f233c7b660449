package insights

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
)

// sink is an Ingester that keeps batches, optionally blocking until
// released or failing.
type sink struct {
	mu      sync.Mutex
	batches [][]Event
	gate    chan struct{}
	fail    error
	failN   int // fail the first failN calls with fail, then succeed
}

func (s *sink) Ingest(ctx context.Context, evs []Event) error {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil && s.failN >= 0 {
		if s.failN > 0 {
			s.failN--
			if s.failN == 0 {
				defer func() { s.fail = nil }()
			}
		}
		return s.fail
	}
	s.batches = append(s.batches, append([]Event(nil), evs...))
	return nil
}

type segs map[bankbridge.CustomerID]Segmentation

func (m segs) Segments(_ context.Context, ids []bankbridge.CustomerID) (map[bankbridge.CustomerID]Segmentation, error) {
	return m, nil
}

func ev(c bankbridge.CustomerID) Event {
	return Event{At: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC), Customer: c, Channel: Web, Kind: Session}
}

func TestRecorderWritesBatchesWithSegmentsAndFlushesOnClose(t *testing.T) {
	t.Parallel()
	s := &sink{}
	r := NewRecorder(s, segs{1: {BirthYear: 1960, Products: 3}}, RecorderOptions{MaxBatch: 3, FlushEvery: time.Hour})
	for range 7 {
		r.Record(ev(1))
	}
	r.Record(ev(2)) // unknown to Segments: unknown band, no products
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var n int
	for _, b := range s.batches {
		if len(b) > 3 {
			t.Errorf("batch of %d, want at most 3", len(b))
		}
		for _, e := range b {
			n++
			if !e.Segmented || (e.Customer == 1 && (e.BirthYear != 1960 || e.Products != 3)) || (e.Customer == 2 && e.BirthYear != 0) {
				t.Errorf("event not segmented: %+v", e)
			}
		}
	}
	st := r.Stats()
	if n != 8 || st.Written != 8 || st.Recorded != 8 || st.Dropped != 0 || st.Failed != 0 {
		t.Errorf("wrote %d; stats %+v", n, st)
	}
	r.Record(ev(1))
	if r.Stats().Dropped != 1 {
		t.Error("an event after Close was not counted as dropped")
	}
}

func TestRecorderDropsRatherThanBlocks(t *testing.T) {
	t.Parallel()
	s := &sink{gate: make(chan struct{})}
	r := NewRecorder(s, nil, RecorderOptions{Buffer: 4, MaxBatch: 1, FlushEvery: time.Hour})
	done := make(chan struct{})
	go func() {
		for range 100 {
			e := ev(1)
			e.Segmented = true
			r.Record(e)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Record blocked on a full buffer")
	}
	st := r.Stats()
	if st.Dropped < 90 || st.Recorded+st.Dropped != 100 {
		t.Errorf("stats %+v: want most of 100 dropped, all accounted for", st)
	}
	close(s.gate)
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Written != st.Recorded {
		t.Errorf("stats after close %+v: every accepted event written", st)
	}
}

func TestRecorderCountsInvalidAndFailed(t *testing.T) {
	t.Parallel()
	s := &sink{fail: errors.New("database down")}
	r := NewRecorder(s, nil, RecorderOptions{MaxBatch: 10, Retries: 1, FlushEvery: time.Hour})
	bad := ev(1)
	bad.Channel = "fax"
	r.Record(bad)
	good := ev(1)
	good.Segmented = true
	r.Record(good)
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Dropped != 1 || st.Failed != 1 || st.Written != 0 {
		t.Errorf("stats %+v: want 1 dropped (invalid), 1 failed", st)
	}
}

// TestRecorderWaitsOutAnUnavailableDatabase: a database that is away for a
// few seconds (a restart) answers Unavailable; the batch is tried past
// Options.Retries until it lands, and nothing is counted lost.
func TestRecorderWaitsOutAnUnavailableDatabase(t *testing.T) {
	t.Parallel()
	away := bankbridge.E(bankbridge.Unavailable, "database_unavailable", "the database is restarting")
	s := &sink{fail: away, failN: 4}
	r := NewRecorder(s, nil, RecorderOptions{MaxBatch: 10, Retries: 1, FlushEvery: time.Hour})
	good := ev(1)
	good.Segmented = true
	r.Record(good)
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Failed != 0 || st.Written != 1 {
		t.Errorf("stats %+v: want the batch written after the database came back, none failed", st)
	}
}
