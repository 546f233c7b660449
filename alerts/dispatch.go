package alerts

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/backoff"
)

// RunDispatcher delivers due deliveries until ctx ends. Run starts one; an
// instance that only delivers (the alert worker of a multi-instance
// deployment) may run it alone.
func (s *Service) RunDispatcher(ctx context.Context) {
	fails := 0
	for ctx.Err() == nil {
		n, err := s.Dispatch(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			fails++
			s.o.Logger.Warn("alerts: claiming deliveries", "err", err, "failures", fails)
			if backoff.Sleep(ctx, backoff.Policy{Base: 50 * time.Millisecond, Max: 5 * time.Second}.Delay(fails)) != nil {
				return
			}
			continue
		case n > 0:
			fails = 0
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-s.send:
		case <-time.After(s.o.Poll):
		}
	}
}

// Dispatch makes one pass: it claims due deliveries, sends them in
// parallel and records each outcome. It returns how many it claimed.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	ds, err := s.store.Claim(ctx, s.o.Now(), s.o.Lease, 4*s.o.Parallel)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, s.o.Parallel)
	var wg sync.WaitGroup
	for _, d := range ds {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.deliver(ctx, d)
		})
	}
	wg.Wait()
	return len(ds), nil
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

func (s *Service) deliver(ctx context.Context, d Delivery) {
	ch := s.o.Channels[d.Channel]
	if d.Channel == Email {
		ch = s.o.Email
	}
	m := Message{ID: d.ID, Alert: d.Alert, Rule: d.Rule, Title: d.Title, Text: d.Body, Link: NotificationsPath, Ask: d.Ask, Urgent: d.Ask}
	var err error
	switch {
	case ch == nil:
		err = bankbridge.E(bankbridge.NotFound, "alert_channel_unknown", "no such channel: "+d.Channel)
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
