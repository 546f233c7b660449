package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of the stream.
const (
	StreamName = "BANKBRIDGE_LEDGER"
	Subject    = "bankbridge.ledger.events"
	Durable    = "alerts"
	RelayName  = "relay" // the relay's cursor in alerts.Store
)

// Bus is a connection to JetStream with the ledger stream ensured.
type Bus struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	// Prefix namespaces the stream, subject and consumer (tests use a
	// fresh one each); "" for the defaults.
	prefix string
}

// Dial connects to url and creates or updates the stream. prefix, when not
// empty, namespaces the stream (tests).
func Dial(ctx context.Context, url, prefix string) (*Bus, error) {
	nc, err := nats.Connect(url, nats.Name("bankbridge"), nats.Timeout(5*time.Second))
	if err != nil {
		return nil, fmt.Errorf("stream: connect %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("stream: jetstream: %w", err)
	}
	b := &Bus{nc: nc, js: js, prefix: prefix}
	b.stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: b.name(StreamName), Subjects: []string{b.subject()}, Storage: jetstream.FileStorage,
		Duplicates: 10 * time.Minute, MaxAge: 7 * 24 * time.Hour,
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("stream: create stream: %w", err)
	}
	return b, nil
}

func (b *Bus) name(s string) string {
	if b.prefix == "" {
		return s
	}
	return b.prefix + "_" + s
}

func (b *Bus) subject() string {
	if b.prefix == "" {
		return Subject
	}
	return b.prefix + "." + Subject
}

// Close drains and closes the connection.
func (b *Bus) Close() { b.nc.Close() }

// Cursors is the part of alerts.Store the relay uses.
type Cursors interface {
	Cursor(ctx context.Context, name string) (ledger.EventSeq, error)
	Commit(ctx context.Context, name string, upto ledger.EventSeq, b alerts.Batch, now time.Time) error
}

// RelayOnce publishes the events after the relay's cursor, up to limit, and
// moves the cursor; it returns how many it published.
func (b *Bus) RelayOnce(ctx context.Context, src alerts.Source, cur Cursors, limit int) (int, error) {
	after, err := cur.Cursor(ctx, RelayName)
	if err != nil {
		return 0, err
	}
	evs, err := src.Events(ctx, after, limit)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(evs))
	for _, e := range evs {
		data, err := json.Marshal(e)
		if err != nil {
			return 0, err
		}
		f, err := b.js.PublishAsync(b.subject(), data, jetstream.WithMsgID(strconv.FormatInt(int64(e.Seq), 10)))
		if err != nil {
			return 0, fmt.Errorf("stream: publish %d: %w", e.Seq, err)
		}
		futures = append(futures, f)
	}
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return 0, fmt.Errorf("stream: publish %d: %w", evs[i].Seq, err)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if err := cur.Commit(ctx, RelayName, evs[len(evs)-1].Seq, alerts.Batch{}, time.Now()); err != nil {
		return 0, err
	}
	return len(evs), nil
}

// Relay runs RelayOnce until ctx ends, waiting poll between empty reads
// (or less, when wake fires: wire it to the ledger's OnBatch).
func (b *Bus) Relay(ctx context.Context, src alerts.Source, cur Cursors, wake <-chan struct{}, poll time.Duration) error {
	for {
		n, err := b.RelayOnce(ctx, src, cur, 1000)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil && n > 0 {
			continue
		}
		d := poll
		if err != nil {
			d = time.Second
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-time.After(d):
		}
	}
}

// Processor is what consumes events: *alerts.Service.
type Processor interface {
	Process(ctx context.Context, evs []ledger.Event, upto ledger.EventSeq) error
}

// Consume feeds p from the shared durable consumer until ctx ends: fetch up
// to batch messages, process them together (cursor untouched: upto 0),
// then acknowledge them. A failed batch is not acknowledged, so JetStream
// redelivers it after AckWait.
func (b *Bus) Consume(ctx context.Context, p Processor, batch int) error {
	cons, err := b.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: b.name(Durable), AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxAckPending: 10 * batch,
	})
	if err != nil {
		return fmt.Errorf("stream: consumer: %w", err)
	}
	for ctx.Err() == nil {
		mb, err := cons.Fetch(batch, jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			if errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return ctx.Err()
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var msgs []jetstream.Msg
		var evs []ledger.Event
		for m := range mb.Messages() {
			var e ledger.Event
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				m.Term() // a damaged message never gets better
				continue
			}
			msgs, evs = append(msgs, m), append(evs, e)
		}
		if len(evs) == 0 {
			continue
		}
		if err := p.Process(ctx, evs, 0); err != nil {
			for _, m := range msgs {
				m.Nak()
			}
			continue
		}
		for _, m := range msgs {
			m.Ack()
		}
	}
	return ctx.Err()
}

// Messages returns how many messages the stream holds (for operators and
// tests: a republished event is dropped, not stored twice).
func (b *Bus) Messages(ctx context.Context) (uint64, error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream: info: %w", err)
	}
	return info.State.Msgs, nil
}
