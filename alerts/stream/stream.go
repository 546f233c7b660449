package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// RelayName is the relay's cursor in alerts.Store.
const RelayName = "relay"

// Bus is a connection to JetStream with the deployment's ledger stream
// ensured.
type Bus struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	d      Deployment
	log    *slog.Logger
	naks   atomic.Int64 // batches handed back after Process failed
	terms  atomic.Int64 // messages that could not be read, dropped
}

// Dial connects to url and creates or updates the stream of deployment d
// (ValidCluster names its cluster). It refuses a cluster whose stream
// already carries another database's events: two banks, or a test and a
// production database, configured with the same --cluster would otherwise
// mix their events. log receives the consumer's fallbacks; nil discards.
func Dial(ctx context.Context, url string, d Deployment, log *slog.Logger) (*Bus, error) {
	if err := ValidCluster(d.Cluster); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// The client reconnects by itself, for ever: an instance outlives a
	// NATS restart with its outbox filling meanwhile. Losing and regaining
	// the server is logged, so that an outage is visible, not silent.
	nc, err := nats.Connect(url, nats.Name("bankbridge-"+d.Cluster), nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1), nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err == nil || nc.IsClosed() {
				return // Close, at shutdown: nothing is lost and nothing reconnects
			}
			log.Warn("stream: disconnected from NATS; reconnecting, events wait in the outbox", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("stream: reconnected to NATS", "url", nc.ConnectedUrlRedacted())
		}))
	if err != nil {
		return nil, fmt.Errorf("stream: connect %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("stream: jetstream: %w", err)
	}
	b := &Bus{nc: nc, js: js, d: d, log: log}
	desc := descPrefix + d.Database
	if s, err := js.Stream(ctx, b.StreamName()); err == nil {
		if got := s.CachedInfo().Config.Description; strings.HasPrefix(got, descPrefix) && got != desc {
			nc.Close()
			return nil, fmt.Errorf("stream: cluster %q on this NATS server carries the events of database %s, and this database is %s: "+
				"give this deployment another --cluster, or remove the stream %s if that database is gone",
				d.Cluster, strings.TrimPrefix(got, descPrefix), d.Database, b.StreamName())
		}
	} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
		nc.Close()
		return nil, fmt.Errorf("stream: look up stream: %w", err)
	}
	b.stream, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: b.StreamName(), Description: desc, Subjects: []string{b.Subject()}, Storage: jetstream.FileStorage,
		Duplicates: 10 * time.Minute, MaxAge: 7 * 24 * time.Hour,
	})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("stream: create stream: %w", err)
	}
	return b, nil
}

// descPrefix starts the stream's description, which names its database.
const descPrefix = "bankbridge ledger events of database "

// StreamName is the deployment's stream: BANKBRIDGE_<cluster>_LEDGER.
func (b *Bus) StreamName() string { return "BANKBRIDGE_" + b.d.Cluster + "_LEDGER" }

// Subject is the one subject of the deployment's stream:
// bankbridge.<cluster>.ledger.events.
func (b *Bus) Subject() string { return "bankbridge." + b.d.Cluster + ".ledger.events" }

// Durable is the alert workers' shared consumer: <cluster>_alerts.
func (b *Bus) Durable() string { return b.d.Cluster + "_alerts" }

// MsgID is the JetStream message id of an event: <cluster>.<seq>, unique
// per deployment, so the stream's duplicate window drops a republished
// event and never another deployment's event of the same sequence.
func (b *Bus) MsgID(seq ledger.EventSeq) string {
	return b.d.Cluster + "." + strconv.FormatInt(int64(seq), 10)
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
		f, err := b.js.PublishAsync(b.Subject(), data, jetstream.WithMsgID(b.MsgID(e.Seq)))
		if err != nil {
			return 0, fmt.Errorf("stream: publish %d: %w", e.Seq, err)
		}
		futures = append(futures, f)
	}
	// A NATS server lost while acknowledgements are pending fails them
	// (nats.ErrDisconnected, from the client's reconnect): the batch is
	// published again on the next round, and the message ids make that
	// harmless.
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

// Relay runs RelayOnce until ctx ends, waiting poll between empty reads,
// or less when wake fires: wire it to the ledger's OnBatch, so an event
// leaves for NATS as soon as its batch commits; the poll remains for
// commits made by other instances, whose relays normally publish them.
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
			b.log.Warn("stream: relaying the outbox failed; trying again", "err", err)
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

// Consume feeds p from the deployment's shared durable consumer until ctx
// ends: take what is waiting, up to batch messages (blocking only until
// the first arrives, so a lone event is not held back for a batch), process
// them together (cursor untouched: upto 0), then acknowledge them. A batch
// that fails is handed back with a delay that grows with its redeliveries
// (up to 30 s), logged and counted (Stats); JetStream redelivers it, to
// this instance or another, until it is processed.
func (b *Bus) Consume(ctx context.Context, p Processor, batch int) error {
	cons, err := b.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: b.Durable(), AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second, MaxAckPending: 10 * batch,
	})
	if err != nil {
		return fmt.Errorf("stream: consumer: %w", err)
	}
	failing := false // logged once per run of failures, not every 100 ms
	for ctx.Err() == nil {
		msgs, err := b.fetch(cons, batch)
		if err != nil {
			if errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return ctx.Err()
			}
			if !failing {
				b.log.Warn("stream: taking events failed; trying again", "err", err)
				failing = true
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if failing {
			b.log.Info("stream: taking events again")
			failing = false
		}
		var ok []jetstream.Msg
		var evs []ledger.Event
		for _, m := range msgs {
			var e ledger.Event
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				b.terms.Add(1)
				b.log.Error("stream: dropping an unreadable message", "subject", m.Subject(), "err", err)
				m.Term() // a damaged message never gets better
				continue
			}
			ok, evs = append(ok, m), append(evs, e)
		}
		if len(evs) == 0 {
			continue
		}
		if err := p.Process(ctx, evs, 0); err != nil {
			if ctx.Err() != nil {
				return ctx.Err() // unacknowledged: redelivered after AckWait
			}
			b.naks.Add(1)
			n := uint64(1)
			if md, err := ok[0].Metadata(); err == nil {
				n = md.NumDelivered
			}
			delay := min(100*time.Millisecond<<min(n, 9), 30*time.Second)
			b.log.Warn("stream: processing events failed; handing them back", "events", len(evs), "first", evs[0].Seq,
				"delivered", n, "retry_in", delay, "err", err)
			for _, m := range ok {
				m.NakWithDelay(delay)
			}
			continue
		}
		for _, m := range ok {
			m.Ack()
		}
	}
	return ctx.Err()
}

// fetch waits up to a second for one message, then takes whatever else is
// already waiting, up to batch in all. A single Fetch(batch) would hold a
// lone event until its wait expired (it returns early only when full).
func (b *Bus) fetch(cons jetstream.Consumer, batch int) ([]jetstream.Msg, error) {
	var out []jetstream.Msg
	mb, err := cons.Fetch(1, jetstream.FetchMaxWait(time.Second))
	if err != nil {
		return nil, err
	}
	for m := range mb.Messages() {
		out = append(out, m)
	}
	if len(out) == 0 || batch <= 1 {
		return out, nil // an expired wait is no error: look again
	}
	if mb, err = cons.FetchNoWait(batch - 1); err != nil {
		return out, nil // the first one is ours; the rest waits for the next call
	}
	for m := range mb.Messages() {
		out = append(out, m)
	}
	return out, nil
}

// Stats are the consumer's fallbacks since Dial, for metrics.
type Stats struct {
	Naks  int64 // batches handed back for redelivery after Process failed
	Terms int64 // unreadable messages dropped (logged)
}

// Stats returns the consumer's fallbacks so far.
func (b *Bus) Stats() Stats { return Stats{Naks: b.naks.Load(), Terms: b.terms.Load()} }

// Messages returns how many messages the stream holds (for operators and
// tests: a republished event is dropped, not stored twice).
func (b *Bus) Messages(ctx context.Context) (uint64, error) {
	info, err := b.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream: info: %w", err)
	}
	return info.State.Msgs, nil
}
