package dataapi

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge/backoff"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi/records"
)

// Notification headers. The signature is HMAC-SHA256, keyed by the
// subscription's secret, over "<timestamp>.<body>", hex-encoded after
// "v1=". A receiver recomputes it, compares in constant time and refuses a
// timestamp more than ReplayWindow from its clock; eventId in the body
// deduplicates the at-least-once deliveries.
const (
	HeaderTimestamp = "x-bankbridge-timestamp"
	HeaderSignature = "x-bankbridge-signature"
	ReplayWindow    = 5 * time.Minute
)

// Delivery schedule: attempt n (from 1) waits about RetryBase·2^(n-1)
// (±20%, package backoff), never more than RetryMax, and the notification is dead after MaxAttempts.
const (
	RetryBase   = 2 * time.Second
	RetryMax    = time.Hour
	MaxAttempts = 10
	maxSubs     = 5
)

// Sign returns the signature header value of body sent at ts.
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// VerifySignature is the receiver's check of a delivery: the signature
// matches and the timestamp is within ReplayWindow of now. Partners can
// copy it; tests use it.
func VerifySignature(secret []byte, timestamp, signature string, body []byte, now time.Time) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || len(timestamp) > 12 {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > ReplayWindow || d < -ReplayWindow {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, ts, body)), []byte(signature))
}

// Event is the body of every notification.
type Event struct {
	EventID      string         `json:"eventId"`
	Type         string         `json:"type"`
	OccurredTime string         `json:"occurredTime"`
	Data         map[string]any `json:"data"`
}

// notify queues an event for every subscription of partner. A failure is
// logged: the change it reports has happened and stays readable by GET.
func (s *Server) notify(ctx context.Context, partner, typ string, data map[string]any) {
	s.notifyOnce(ctx, partner, typ, "", data)
}

// notifyOnce is notify for a change that may be told more than once (a
// rail status retold after its instance died): with a non-empty once, each
// subscription's event id is derived from it, and the outbox keeps the
// first event of an id, so the partner gets one event per change.
func (s *Server) notifyOnce(ctx context.Context, partner, typ, once string, data map[string]any) {
	subs, err := s.d.Store.Subscriptions(ctx, partner)
	if err != nil {
		s.log.ErrorContext(ctx, "dataapi: notification subscriptions", "partner", partner, "err", err)
		return
	}
	if len(subs) == 0 {
		return
	}
	now := s.d.Now().UTC().Truncate(time.Microsecond)
	ns := make([]records.Notification, 0, len(subs))
	for _, sub := range subs {
		id := newUUID()
		if once != "" {
			id = derivedUUID(once + "|" + string(sub.ID))
		}
		body, _ := json.Marshal(Event{EventID: id, Type: typ, OccurredTime: ts(now), Data: data})
		ns = append(ns, records.Notification{ID: id, Subscription: sub.ID, Partner: partner, Type: typ, Body: body,
			Status: records.NotificationPending, Next: now, Created: now})
	}
	if err := s.d.Store.Enqueue(ctx, ns); err != nil {
		s.log.ErrorContext(ctx, "dataapi: queue notification", "partner", partner, "type", typ, "err", err)
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// ConsentEvent makes Server a consent.Hook: partners hear of revocations
// (CONSENT_REVOKED) and of changes to a consent's term (CONSENT_UPDATED:
// reauthorised or expired). Uses are not told. It also passes the event
// to the Verifier when that is a consent.Hook (oauth.Verifier is).
func (s *Server) ConsentEvent(ctx context.Context, e consent.Event) {
	// First, before the request that ended the consent answers: this
	// instance's verifier stops honouring it at once (the partner that
	// revokes its own consent is refused from its 204 on).
	if h, ok := s.d.Verifier.(consent.Hook); ok {
		h.ConsentEvent(ctx, e)
	}
	typ := ""
	switch e.Kind {
	case consent.EventRevoked:
		typ = "CONSENT_REVOKED"
	case consent.EventReauthorised, consent.EventExpired:
		typ = "CONSENT_UPDATED"
	default:
		return
	}
	// Not on the caller's request context: a customer's revocation must
	// not wait for, or be cancelled with, the partner's bookkeeping.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	s.notify(ctx, string(e.Grant.Partner), typ, map[string]any{"consentId": string(e.Grant.ID), "status": string(e.Grant.Status),
		"expirationTime": ts(e.Grant.Expires)})
}

var _ consent.Hook = (*Server)(nil)

// Deliver sends the notifications that are due, once each, and schedules
// retries; it returns how many it attempted.
func (s *Server) Deliver(ctx context.Context) (int, error) {
	due, err := s.d.Store.DueNotifications(ctx, s.d.Now().UTC(), 100)
	if err != nil {
		return 0, err
	}
	secrets := map[string][]byte{}
	for _, n := range due {
		sec, ok := secrets[n.Subscription]
		var sub records.Subscription
		if !ok {
			sub, err = s.d.Store.Subscription(ctx, n.Partner, n.Subscription)
			if err != nil {
				continue // deleted meanwhile: its rows go with it
			}
			secrets[n.Subscription] = sub.Secret
			sec = sub.Secret
		} else {
			sub, _ = s.d.Store.Subscription(ctx, n.Partner, n.Subscription)
		}
		n.Attempts++
		if err := s.post(ctx, sub.CallbackURL, sec, n.Body); err != nil {
			n.LastError = trunc(err.Error(), 200)
			if n.Attempts >= MaxAttempts {
				n.Status = records.NotificationDead
			} else {
				n.Next = s.d.Now().UTC().Add(backoff.Policy{Base: RetryBase, Max: RetryMax}.Delay(n.Attempts))
			}
		} else {
			n.Status, n.LastError = records.NotificationDelivered, ""
		}
		if err := s.d.Store.UpdateNotification(ctx, n); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

func (s *Server) post(ctx context.Context, u string, secret, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	now := s.d.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now, 10))
	req.Header.Set(HeaderSignature, Sign(secret, now, body))
	res, err := s.o.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 4096))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("callback answered %d", res.StatusCode)
	}
	return nil
}

// Run delivers notifications, fails payments whose confirmation window
// closed and saves the performance counters, until ctx ends; then it saves
// the counters once more. With Options.Lease it delivers only while it
// holds DeliveryLease; expiry (a compare-and-set per payment) and this
// instance's counters run on every instance.
func (s *Server) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wake := s.wake
	if s.o.Lease != nil {
		wake = nil // the delivery loop takes the wake-ups
		wg.Go(func() { s.leadDelivery(ctx) })
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastFlush := time.Now()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.perf.flush(fctx); err != nil {
				s.log.Error("dataapi: save performance", "err", err)
			}
			cancel()
			return
		case <-tick.C:
		case <-wake:
		}
		if s.o.Lease == nil {
			s.deliverDue(ctx)
		}
		if err := s.expirePayments(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("dataapi: expire payments", "err", err)
		}
		if time.Since(lastFlush) >= 10*time.Second {
			lastFlush = time.Now()
			if err := s.perf.flush(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("dataapi: save performance", "err", err)
			}
		}
	}
}

// leadDelivery delivers notifications while this instance holds
// DeliveryLease, and waits for the lease again when it loses it, until ctx
// ends. A notification queued on another instance waits for the next tick
// (a second); one queued here wakes the loop at once.
func (s *Server) leadDelivery(ctx context.Context) {
	for {
		err := s.o.Lease.RunExclusive(ctx, DeliveryLease, func(ctx context.Context) error {
			s.log.Info("dataapi: this instance delivers notifications", "lease", DeliveryLease)
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				s.deliverDue(ctx)
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				case <-s.wake:
				}
			}
		})
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("dataapi: notification delivery lost its lease, or could not take it; waiting for it again", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Server) deliverDue(ctx context.Context) {
	if _, err := s.Deliver(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("dataapi: deliver notifications", "err", err)
	}
}

// SubscriptionRequest is the body of POST /notification-subscriptions.
type SubscriptionRequest struct {
	CallbackURL string `json:"callbackUrl"`
}

// Subscription is a partner's notification subscription. Secret is only
// in the answer that creates it.
type Subscription struct {
	SubscriptionID string   `json:"subscriptionId"`
	CallbackURL    string   `json:"callbackUrl"`
	EventTypes     []string `json:"eventTypes"`
	Secret         string   `json:"secret,omitempty"`
	CreatedTime    string   `json:"createdTime"`
}

// EventTypes are the notifications a subscription receives.
var EventTypes = []string{"CONSENT_REVOKED", "CONSENT_UPDATED", "PAYMENT_STATUS_CHANGED"}

func (s *Server) validCallback(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || len(raw) > 512 || u.Host == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		ip := net.ParseIP(u.Hostname())
		return s.o.AllowHTTPCallbacks && (u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback()))
	}
	return false
}

func (s *Server) subscriptionCreate(c *call) {
	var req SubscriptionRequest
	if err := c.decode(&req); err != nil {
		c.fail(err)
		return
	}
	if !s.validCallback(req.CallbackURL) {
		c.fail(fieldErr(errCallback, "/callbackUrl", "an https URL"))
		return
	}
	subs, err := s.d.Store.Subscriptions(c.ctx, c.partner)
	if err != nil {
		c.fail(err)
		return
	}
	if len(subs) >= maxSubs {
		c.fail(errTooManySubs)
		return
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		c.fail(err)
		return
	}
	sub := records.Subscription{ID: newUUID(), Partner: c.partner, CallbackURL: req.CallbackURL, Secret: secret,
		Created: s.d.Now().UTC().Truncate(time.Microsecond)}
	if err := s.d.Store.CreateSubscription(c.ctx, sub); err != nil {
		c.fail(err)
		return
	}
	out := subscriptionOf(sub)
	out.Secret = base64.RawURLEncoding.EncodeToString(secret)
	c.json(201, out)
}

func subscriptionOf(sub records.Subscription) Subscription {
	return Subscription{SubscriptionID: sub.ID, CallbackURL: sub.CallbackURL, EventTypes: EventTypes, CreatedTime: ts(sub.Created)}
}

func (s *Server) subscriptionGet(c *call) {
	id := c.r.PathValue("subscriptionId")
	if len(id) > 64 {
		c.fail(errNotFound)
		return
	}
	sub, err := s.d.Store.Subscription(c.ctx, c.partner, id)
	if err != nil {
		c.fail(err)
		return
	}
	c.json(200, subscriptionOf(sub))
}

func (s *Server) subscriptionDelete(c *call) {
	id := c.r.PathValue("subscriptionId")
	if len(id) > 64 {
		c.fail(errNotFound)
		return
	}
	if err := s.d.Store.DeleteSubscription(c.ctx, c.partner, id); err != nil {
		c.fail(err)
		return
	}
	c.noContent()
}
