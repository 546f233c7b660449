package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/alerts/stream"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/internal/app"
)

// chatAlertsChannel is the name of the messenger hub in alert deliveries.
// One delivery goes to every chat platform the customer linked.
const chatAlertsChannel = "messenger"

// alertsHub is what alerts need from the messenger hub: *channels.Hub.
type alertsHub interface {
	SendOnce(ctx context.Context, platform, id string, send func(context.Context) error) error
	Notify(ctx context.Context, k assistant.Key, r assistant.Reply) error
}

// chatAlerts delivers alerts through the messenger hub: it is the
// alerts.Links (a customer's chat links, with their assistant settings) and
// the alerts.Channel (a message to each linked chat, once).
type chatAlerts struct {
	hub   alertsHub
	store assistant.Store
	// full holds the delivery ids the service just cleared for account
	// details (Options.Disclose), so Deliver audits them per link.
	full sync.Map
}

var (
	_ alerts.Links   = (*chatAlerts)(nil)
	_ alerts.Channel = (*chatAlerts)(nil)
)

// Links implements alerts.Links: the chat channel when the customer linked
// a chat and left alerts on there, with the chat's privacy mode.
func (a *chatAlerts) Links(ctx context.Context, c bankbridge.CustomerID) ([]alerts.Link, error) {
	s, err := a.store.Settings(ctx, c)
	if err != nil {
		return nil, err
	}
	if !s.Alerts {
		return nil, nil
	}
	ls, err := a.store.LinksByCustomer(ctx, c)
	if err != nil || len(ls) == 0 {
		return nil, err
	}
	return []alerts.Link{{Channel: chatAlertsChannel, Privacy: alerts.Privacy(s.Privacy)}}, nil
}

// disclose is alerts.Options.Disclose: it marks a full-text delivery so
// Deliver records it in the disclosure log, per link and consent, before
// each send.
func (a *chatAlerts) disclose(_ context.Context, _ bankbridge.CustomerID, channel string, m alerts.Message) error {
	if channel == chatAlertsChannel {
		a.full.Store(m.ID, true)
	}
	return nil
}

// errChatUnlinked is the permanent refusal of a delivery to a customer who
// has no chat link any more: the delivery becomes a dead letter.
var errChatUnlinked = bankbridge.E(bankbridge.NotFound, "alert_chat_unlinked", "the customer has no linked chat any more")

// Deliver implements alerts.Channel: the message, with "was this you?"
// quick replies when it asks, to every linked chat, each once per delivery
// id (Hub.Once drops a resend), tagged as an account update.
func (a *chatAlerts) Deliver(ctx context.Context, c bankbridge.CustomerID, m alerts.Message) error {
	_, full := a.full.LoadAndDelete(m.ID)
	ls, err := a.store.LinksByCustomer(ctx, c)
	if err != nil {
		return fmt.Errorf("alerts chat: links of customer %d: %w", c, err)
	}
	if len(ls) == 0 {
		return errChatUnlinked
	}
	r := assistant.Reply{Text: m.Text}
	if m.Ask {
		r.Choices = []assistant.Choice{
			{Title: "Yes, it was me", Payload: alerts.AnswerPayload(m.Alert, alerts.Yes)},
			{Title: "No, it wasn't", Payload: alerts.AnswerPayload(m.Alert, alerts.No)},
		}
	}
	var errs []error
	for _, l := range ls {
		rr := r
		if full {
			rr.Disclosure = &assistant.Disclosure{Customer: c, Grant: l.Grant, Clusters: []consent.Cluster{consent.Transactions},
				Purpose: "alerts the customer turned on", What: "alert " + string(m.Rule)}
		}
		err := a.hub.SendOnce(ctx, l.Platform, "alert:"+m.ID+":"+l.User, func(ctx context.Context) error {
			return a.hub.Notify(ctx, l.Key, rr)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("alerts chat: %s: %w", l.Platform, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		// Transient for the dispatcher: a plain error, never a refusal kind.
		return errors.New(err.Error())
	}
	return nil
}

// alertAnswers routes "was this you?" quick replies from chats to the alerts
// service, which is built after the assistant: Set it once it exists.
type alertAnswers struct {
	svc atomic.Pointer[alerts.Service]
}

// Set makes the answers go to svc.
func (h *alertAnswers) Set(svc *alerts.Service) { h.svc.Store(svc) }

// Answer is assistant.Deps.Answer: a payload made by alerts.AnswerPayload is
// answered by Service.Answer and replied to with the outcome's text (or the
// refusal's message: already answered, not this customer's).
func (h *alertAnswers) Answer(ctx context.Context, c bankbridge.CustomerID, payload string) (string, bool, error) {
	id, ans, ok := alerts.ParseAnswerPayload(payload)
	if !ok {
		return "", false, nil
	}
	svc := h.svc.Load()
	if svc == nil {
		return "Sorry, I can't take that answer right now. Please answer in the bank's app, under Alerts.", true, nil
	}
	out, err := svc.Answer(ctx, c, id, ans)
	switch k := bankbridge.ErrorKind(err); {
	case err == nil:
		return out.Text, true, nil
	case k == bankbridge.NotFound || k == bankbridge.Conflict || k == bankbridge.Invalid:
		return bankbridge.ErrorMessage(err) + ".", true, nil
	default:
		return "", true, err
	}
}

// alertsDeps is what alertsWiring needs.
type alertsDeps struct {
	store     alerts.Store
	ledger    alerts.Ledger
	hub       *channels.Hub   // nil: the messenger channel is off
	messenger assistant.Store // the hub's store
	answers   *alertAnswers   // the assistant's Deps.Answer target; may be nil
	bankName  string
	options   alerts.Options // further tuning (Email, OnSent, ...); Channels, Links and Disclose are set here
	log       *slog.Logger
}

// alertsWiring builds the alerts service: the messenger hub as the chat
// channel and link source when the hub is on, and "was this you?" answers
// from chats routed to it. The caller runs Service.Run.
func alertsWiring(d alertsDeps) *alerts.Service {
	o := d.options
	if o.Logger == nil {
		o.Logger = d.log
	}
	o.BankName = cmp.Or(o.BankName, d.bankName)
	if d.hub != nil {
		ch := &chatAlerts{hub: d.hub, store: d.messenger}
		if o.Channels == nil {
			o.Channels = map[string]alerts.Channel{}
		}
		o.Channels[chatAlertsChannel] = ch
		o.Links, o.Disclose = ch, ch.disclose
	}
	svc := alerts.New(d.store, d.ledger, o)
	if d.answers != nil {
		d.answers.Set(svc)
	}
	return svc
}

// alertOptions sets what the configuration decides: e-mail through an SMTP
// relay when one is given, and engagement events for every alert sent and
// answered.
func alertOptions(c *app.Config, events *insights.Recorder) alerts.Options {
	var o alerts.Options
	if c.SMTP != "" {
		o.Email = &alerts.Mailer{Addr: c.SMTP, From: c.MailFrom}
	}
	channel := func(ch string) insights.Channel {
		switch ch {
		case chatAlertsChannel:
			return insights.Messenger
		}
		return insights.Web
	}
	o.OnSent = func(cu bankbridge.CustomerID, ch string, _ alerts.Rule, at time.Time) {
		events.Record(insights.Event{At: at, Customer: cu, Channel: channel(ch), Kind: insights.AlertSent})
	}
	o.OnAnswered = func(cu bankbridge.CustomerID, _ alerts.Answer, at time.Time) {
		events.Record(insights.Event{At: at, Customer: cu, Channel: insights.Messenger, Kind: insights.AlertAnswered})
	}
	return o
}

// startAlerts builds the alerts service and starts its work in the group
// work: in this process by default (read the outbox, decide, deliver), or,
// with --events nats://..., a relay of the outbox to JetStream plus a
// consumer of the shared stream, so that several instances split the work
// and none is done twice. The NATS connection closes once they returned.
func startAlerts(ctx context.Context, work *workers, c *app.Config, d alertsDeps, b *app.Backend) (*alerts.Service, error) {
	svc := alertsWiring(d)
	if c.Events == "" {
		work.Go("alerts worker", func(ctx context.Context) error { return svc.Run(ctx, b.Ledger) })
		return svc, nil
	}
	bus, err := stream.Dial(ctx, c.Events, "")
	if err != nil {
		return nil, fmt.Errorf("--events %s: %w", c.Events, err)
	}
	work.Cleanup(bus.Close)
	work.Go("alerts relay", func(ctx context.Context) error {
		return bus.Relay(ctx, b.Ledger, b.Alerts, nil, 50*time.Millisecond)
	})
	work.Go("alerts consumer", func(ctx context.Context) error { return bus.Consume(ctx, svc, 200) })
	work.Go("alerts dispatcher", func(ctx context.Context) error { svc.RunDispatcher(ctx); return nil })
	return svc, nil
}
