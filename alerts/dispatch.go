package alerts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/backoff"
)

// RunDispatcher delivers due deliveries until ctx ends. Run starts one; an
// instance that only delivers (the alert worker of a multi-instance
// deployment) may run it alone. An instance with no channel at all only
// looks every idlePoll: whatever it claims it hands back (or, when no
// instance has the channel, dead-letters), and claiming often would take
// deliveries from the instances that can make them.
func (s *Service) RunDispatcher(ctx context.Context) {
	idle := len(s.o.Channels) == 0 && s.o.Email == nil
	poll := s.o.Poll
	if idle {
		s.o.Logger.Info("alerts: no delivery channel on this instance; other instances deliver")
		poll = max(poll, idlePoll)
	}
	fails := 0
	for ctx.Err() == nil {
		n, released, err := s.dispatch(ctx)
		if released > 0 && backoff.Sleep(ctx, handBackPause*s.o.Poll) != nil {
			return // step aside while an instance with the channel claims them
		}
		switch {
		case err != nil && ctx.Err() == nil:
			fails++
			s.o.Logger.Warn("alerts: claiming deliveries", "err", err, "failures", fails)
			if backoff.Sleep(ctx, backoff.Policy{Base: 50 * time.Millisecond, Max: 5 * time.Second}.Delay(fails)) != nil {
				return
			}
			continue
		case n > 0 && !idle:
			fails = 0
			continue
		}
		wake := s.send
		if idle {
			wake = nil
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-time.After(poll):
		}
	}
}

// Dispatch makes one pass: it claims due deliveries, sends them in
// parallel and records each outcome. It returns how many it claimed.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	n, _, err := s.dispatch(ctx)
	return n, err
}

// dispatch is Dispatch, also saying how many deliveries it handed back
// because their channel is not on this instance.
func (s *Service) dispatch(ctx context.Context) (claimed, released int, err error) {
	// Deliveries on the channels this instance has, and those on others
	// only once no instance that has theirs took them for handOverAfter:
	// hand-backs are then rare, and a channel no instance has still ends
	// as a dead letter saying so.
	now := s.o.Now()
	ds, err := s.store.Claim(ctx, now, s.o.Lease, 4*s.o.Parallel, s.own, now.Add(-handOverAfter))
	if err != nil || len(ds) == 0 {
		return 0, 0, err
	}
	sem := make(chan struct{}, s.o.Parallel)
	var wg sync.WaitGroup
	for _, d := range ds {
		ch := s.channel(d.Channel)
		if ch == nil {
			s.release(ctx, d)
			released++
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.deliver(ctx, d, ch)
		})
	}
	wg.Wait()
	return len(ds), released, nil
}

// channel returns the Channel of a delivery's channel name on this
// instance, nil when it has none.
func (s *Service) channel(name string) Channel {
	if name == Email {
		return s.o.Email
	}
	return s.o.Channels[name]
}

// permanent reports an error a retry cannot fix.
func permanent(err error) bool {
	switch bankbridge.ErrorKind(err) {
	case bankbridge.Invalid, bankbridge.NotFound, bankbridge.Forbidden:
		var e *bankbridge.Error
		return errors.As(err, &e)
	}
	return false
}

func (s *Service) deliver(ctx context.Context, d Delivery, ch Channel) {
	m := Message{ID: d.ID, Alert: d.Alert, Rule: d.Rule, Title: d.Title, Text: d.Body, Link: NotificationsPath, Ask: d.Ask, Urgent: d.Ask}
	var err error
	if s.o.Language != nil && s.o.Language(ctx, d.Customer) == "es" {
		// Written now, in the language the customer reads now, from what
		// the alert says as data; the stored English text is only the
		// fallback for alerts made before facts were kept.
		if d.Full {
			var a Alert
			if a, err = s.store.Alert(ctx, d.Alert); err == nil {
				if title, body, ok := Text(a, "es"); ok {
					m.Title, m.Text, m.Language = title, body, "es"
				}
			}
		} else if es, ok := MinimalSpanish(s.o.BankName, d.Rule, d.Body); ok {
			m.Title, m.Text, m.Language = minimalTitleES(s.o.BankName, d.Rule), es, "es"
		}
	}
	switch {
	case d.Channel == Email:
		var st map[bankbridge.CustomerID]Settings
		if st, err = s.store.Settings(ctx, []bankbridge.CustomerID{d.Customer}); err == nil {
			if m.To = st[d.Customer].Email; m.To == "" {
				err = bankbridge.E(bankbridge.NotFound, "alert_email_removed", "the customer removed their e-mail address")
			}
		}
	}
	if err == nil && s.o.Disclose != nil && d.Channel != Email && d.Full {
		err = s.o.Disclose(ctx, d.Customer, d.Channel, m)
	}
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, s.o.SendTimeout)
		err = ch.Deliver(sctx, d.Customer, m)
		cancel()
	}
	now := s.o.Now()
	// Recording the outcome must survive our own shutdown starting: use a
	// context of its own, bounded.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err == nil {
		if rerr := s.store.Delivered(rctx, d.ID, now); rerr != nil {
			s.o.Logger.Warn("alerts: recording a delivery", "delivery", d.ID, "err", rerr)
			return // the lease expires and it is sent again; the channel dedupes by ID
		}
		if s.o.OnSent != nil {
			s.o.OnSent(d.Customer, d.Channel, m.Rule, now)
		}
		return
	}
	dead := permanent(err) || d.Attempts >= s.o.MaxAttempts
	next := now.Add(backoff.Policy{Base: s.o.BackoffBase, Max: s.o.BackoffMax}.Delay(d.Attempts))
	reason := bankbridge.ErrorMessage(err)
	if bankbridge.ErrorKind(err) == bankbridge.Internal {
		reason = err.Error() // staff-only: the console shows it to diagnose the channel
	}
	if len(reason) > 500 {
		reason = reason[:500]
	}
	s.o.Logger.Warn("alerts: delivery failed", "delivery", d.ID, "channel", d.Channel, "attempt", d.Attempts, "dead", dead, "err", err)
	if rerr := s.store.Failed(rctx, d.ID, reason, next, dead, now); rerr != nil {
		s.o.Logger.Warn("alerts: recording a failure", "delivery", d.ID, "err", rerr)
	}
}

// idlePoll is how often a dispatcher with no channel looks for deliveries.
const idlePoll = 5 * time.Second

// handOverAfter is how long a delivery waits past its due time for an
// instance that has its channel before one that lacks it claims it (and
// hands it back, or dead-letters it). Instances with the channel poll every
// Poll (50 ms by default), so 10 s overdue means none of them is taking it.
const handOverAfter = 10 * time.Second

// A delivery no instance that claimed it could make is a dead letter once
// it was claimed unroutableAfter times and is unroutableAge old. The age
// is what matters: claims race, and with two instances, one lacking the
// channel, half of them land on that one, so a count alone would kill a
// deliverable alert now and then; surviving two minutes of hand-backs
// every few seconds by chance is out of reach.
const unroutableAge = 2 * time.Minute

func (s *Service) unroutableAfter() int { return 2 * s.o.MaxAttempts }

// handBackPause is how many polls a dispatcher waits after handing
// deliveries back: the instances that have the channel poll every Poll,
// so one of them claims the deliveries first, not this one again.
const handBackPause = 4

// release hands back a delivery on a channel this instance does not have
// (off here, on elsewhere in the fleet): it stays pending, due at once the
// first time and within seconds after, for an instance that has the
// channel (the dispatcher steps aside meanwhile). Past
// unroutableAfter claims and unroutableAge it is a dead letter that says
// no instance could deliver it. Either way it is logged and counted
// (Stats), never dropped.
func (s *Service) release(ctx context.Context, d Delivery) {
	now := s.o.Now()
	dead := d.Attempts >= s.unroutableAfter() && now.Sub(d.Created) >= unroutableAge
	reason := "the " + d.Channel + " channel is not configured on this instance; left for another"
	if dead {
		reason = fmt.Sprintf("no instance could deliver on the %s channel: it is not configured on the instances that took it (%d attempts)", d.Channel, d.Attempts)
		s.unroutable.Add(1)
		s.o.Logger.Error("alerts: delivery dead, its channel is on no instance that took it", "delivery", d.ID, "channel", d.Channel, "attempts", d.Attempts)
	} else {
		s.released.Add(1)
		s.o.Logger.Warn("alerts: delivery left for another instance: channel not configured here", "delivery", d.ID, "channel", d.Channel, "attempt", d.Attempts)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	// Due at once the first time: an instance with the channel takes it
	// while this one steps aside. Later hand-backs mean none took it in
	// time: wait a little longer each time, at most 5 s.
	next := now
	if d.Attempts > 1 {
		next = now.Add(backoff.Policy{Base: 250 * time.Millisecond, Max: 5 * time.Second}.Delay(d.Attempts - 1))
	}
	if err := s.store.Failed(rctx, d.ID, reason, next, dead, now); err != nil {
		s.o.Logger.Warn("alerts: recording a release", "delivery", d.ID, "err", err)
	}
}

// Stats counts the deliveries this instance could not make itself.
type Stats struct {
	Released   int64 // handed back: their channel is not configured here
	Unroutable int64 // dead letters: no instance that took them had the channel
}

// Stats returns the fallbacks of this instance's dispatcher so far.
func (s *Service) Stats() Stats {
	return Stats{Released: s.released.Load(), Unroutable: s.unroutable.Load()}
}
