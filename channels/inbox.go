package channels

import (
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/channels/inbox"
)

// The inbox: a platform's webhook is answered once its events are stored
// durably, not once they are answered. Meta asks for a 200 at once and
// resends what it does not get one for
// (https://developers.facebook.com/docs/messenger-platform/webhooks,
// "Webhook Performance Requirements": respond with 200 OK within 5 seconds;
// an app that keeps failing has its subscription disabled). Storing the
// event is one insert; the assistant, the audit log and the Send API run
// after, in a worker, in order per conversation, on any instance.
//
// The table is generic (platform, conversation, event id): every channel
// can put its events there, and the platform's own id (Messenger's mid)
// deduplicates a redelivery at the door.

// InboxEvent is one platform event waiting in the inbox (inbox.Event).
type InboxEvent = inbox.Event

// Inbox stores inbound events durably until they are processed
// (inbox.Store; store/sqlstore.MessengerStore).
type Inbox = inbox.Store

// Processor is a channel whose events go through the inbox: Process
// handles one event Accept stored. An error leaves the event for a retry
// (after InboxLease), up to InboxAttempts claims.
type Processor interface {
	Process(ctx context.Context, ev InboxEvent) error
}

// Inbox tuning. The lease outlives any one event's processing (the Send
// API's bounded retries and pacing included) with room; an instance killed
// holding events gives them up when it runs out.
const (
	InboxLease    = 30 * time.Second
	InboxAttempts = 5
	InboxWorkers  = 64
	inboxPoll     = 200 * time.Millisecond
)

// ErrInbox reports an event the bank could not store: the platform should
// redeliver it.
var ErrInbox = bankbridge.E(bankbridge.Unavailable, "chat_busy", "try again")

// Accept takes a platform's events. With an Inbox it stores them durably
// (one transaction) and wakes this instance's worker: the webhook may
// answer 200 as soon as it returns nil. Without one it processes them
// inline, in order. An error means nothing was stored: ask for a
// redelivery.
func (h *Hub) Accept(ctx context.Context, platform string, evs []InboxEvent) error {
	if len(evs) == 0 {
		return nil
	}
	ch, _, err := h.channel(platform)
	if err != nil {
		return err
	}
	p, ok := ch.(Processor)
	if !ok {
		return ErrNoChannel.WithMessage("this channel does not process stored events")
	}
	now := h.d.Now().UTC()
	for i := range evs {
		evs[i].Platform = platform
		if evs[i].Received.IsZero() {
			evs[i].Received = now
		}
	}
	if h.d.Inbox == nil {
		for _, ev := range evs {
			if err := p.Process(ctx, ev); err != nil {
				return err
			}
		}
		return nil
	}
	if err := h.enqueue(ctx, evs); err != nil {
		return ErrInbox.WithOp("channels.Accept", err)
	}
	h.Wake()
	return nil
}

// batch is one Accept's events waiting for the group commit.
type batch struct {
	evs  []InboxEvent
	done chan error
}

// enqueuer commits the events of concurrent Accepts together: while one
// insert is in flight the next webhooks' events gather, and go in the
// next single statement. A burst of webhooks then costs a few commits
// instead of one each, which is what keeps the answer fast when a
// thousand people write at once (on SQLite every commit goes through the
// one writer).
type enqueuer struct {
	mu      sync.Mutex
	pending []*batch
	running bool
}

// maxBatch bounds the events of one insert (5 parameters each, far below
// either engine's limit).
const maxBatch = 1000

// enqueue stores evs with whichever group commit takes them, and returns
// its outcome, or ctx's error if the caller stops waiting (the events may
// then be stored or not; the platform's redelivery is deduplicated).
func (h *Hub) enqueue(ctx context.Context, evs []InboxEvent) error {
	b := &batch{evs: evs, done: make(chan error, 1)}
	q := &h.queue
	q.mu.Lock()
	q.pending = append(q.pending, b)
	if !q.running {
		q.running = true
		go h.flush()
	}
	q.mu.Unlock()
	select {
	case err := <-b.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush commits pending batches until none is left, then ends: it lives
// only while Accepts are waiting on it, each bounded by its own timeout.
func (h *Hub) flush() {
	q := &h.queue
	for {
		q.mu.Lock()
		var take []*batch
		n := 0
		for len(q.pending) > 0 && (n == 0 || n+len(q.pending[0].evs) <= maxBatch) {
			n += len(q.pending[0].evs)
			take = append(take, q.pending[0])
			q.pending = q.pending[1:]
		}
		if len(take) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		all := make([]InboxEvent, 0, n)
		for _, b := range take {
			all = append(all, b.evs...)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := h.d.Inbox.Enqueue(ctx, all)
		cancel()
		for _, b := range take {
			b.done <- err
		}
	}
}

// Wake tells this instance's inbox worker that there may be work.
func (h *Hub) Wake() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// RunInbox processes the inbox until ctx ends, then waits for the events
// in hand: it claims the head event of waiting conversations (up to
// InboxWorkers, or HubDeps.InboxWorkers, at once), hands each to its channel's Process, and marks it
// done, so that the conversation's next event becomes claimable. It wakes
// on Accept on this instance and polls every 200 ms for events another
// instance stored or one that died left. Processed events are purged
// after EventKeep. Run one per instance (the workers group); several
// instances share the work.
func (h *Hub) RunInbox(ctx context.Context) error {
	if h.d.Inbox == nil {
		<-ctx.Done()
		return nil
	}
	owner := rand.Text()
	workers := h.d.InboxWorkers
	if workers <= 0 {
		workers = InboxWorkers
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(inboxPoll)
	defer t.Stop()
	var lastPurge time.Time
	for {
		free := workers - len(sem)
		var evs []InboxEvent
		if free > 0 {
			var err error
			evs, err = h.d.Inbox.Claim(ctx, owner, h.d.Now().UTC(), InboxLease, free)
			if err != nil && ctx.Err() == nil {
				h.d.Logger.Warn("channels: inbox claim", "err", err)
			}
		}
		for _, ev := range evs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem; h.Wake() }()
				h.process(context.WithoutCancel(ctx), ev)
			})
		}
		if now := h.d.Now(); now.Sub(lastPurge) > time.Hour {
			lastPurge = now
			if _, err := h.d.Inbox.Purge(ctx, now.UTC().Add(-EventKeep)); err != nil && ctx.Err() == nil {
				h.d.Logger.Warn("channels: inbox purge", "err", err)
			}
		}
		if len(evs) > 0 && len(evs) == free {
			continue // there may be more
		}
		select {
		case <-ctx.Done():
			return nil
		case <-h.wake:
		case <-t.C:
		}
	}
}

// process hands one claimed event to its channel and records the outcome.
// A failure leaves it leased: it is claimed again when the lease runs out,
// until InboxAttempts, after which it is given up (logged, with its
// reason kept).
func (h *Hub) process(ctx context.Context, ev InboxEvent) {
	err := func() error {
		ch, _, err := h.channel(ev.Platform)
		if err != nil {
			return err
		}
		p, ok := ch.(Processor)
		if !ok {
			return errors.New("the channel does not process stored events")
		}
		pctx, cancel := context.WithTimeout(ctx, InboxLease-5*time.Second)
		defer cancel()
		return p.Process(pctx, ev)
	}()
	failure := ""
	if err != nil {
		if ev.Attempts < InboxAttempts {
			h.d.Logger.Warn("channels: inbox event failed; it will be retried", "platform", ev.Platform, "event", ev.EventID, "attempt", ev.Attempts, "err", err)
			return
		}
		h.d.Logger.Error("channels: inbox event given up", "platform", ev.Platform, "event", ev.EventID, "attempts", ev.Attempts, "err", err)
		failure = err.Error()
		if len(failure) > 500 {
			failure = failure[:500]
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := h.d.Inbox.Done(rctx, ev.ID, h.d.Now().UTC(), failure); err != nil {
		h.d.Logger.Warn("channels: inbox done", "event", ev.EventID, "err", err)
	}
}
