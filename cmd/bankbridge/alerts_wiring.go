package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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
	"github.com/prometheus/client_golang/prometheus"
)

// chatAlertsChannel is the name of the messenger hub in alert deliveries.
// One delivery goes to every chat platform the customer linked.
const chatAlertsChannel = "messenger"

// alertsHub is what alerts need from the messenger hub: *channels.Hub.
type alertsHub interface {
	SendOnce(ctx context.Context, platform, id string, send func(context.Context) error) error
	Notify(ctx context.Context, k assistant.Key, r assistant.Reply, p channels.Purpose) error
}

// chatAlerts delivers alerts through the messenger hub: it is the
// alerts.Links (a customer's chat links, with their assistant settings) and
// the alerts.Channel (a message to each linked chat, once).
type chatAlerts struct {
	hub   alertsHub
	store assistant.Store
	bank  string // the bank's name in minimised texts
	// full holds the delivery ids the service just cleared for account
	// details (Options.Disclose), so Deliver audits them per link.
	full sync.Map
	// events, optional, is told of each alert sent to a chat, on that
	// chat's platform (insights AlertSent).
	events app.EventSink
	now    func() time.Time
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

// errChatWindowClosed is the permanent refusal of a routine alert to
// chats that are all outside the platform's messaging window.
var errChatWindowClosed = bankbridge.E(bankbridge.Forbidden, "alert_chat_window_closed",
	"the chat platform allows this alert only within 24 hours of the customer's last message; it is in the bank's app, and in e-mail when the customer set one")

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
	// In the language the customer chose for chats: the minimised texts
	// and the buttons; a full text keeps the language it was written in.
	lang := assistant.English
	if s, err := a.store.Settings(ctx, c); err == nil {
		lang = s.Language
	}
	r := assistant.Reply{Text: m.Text}
	if es, ok := alerts.MinimalSpanish(a.bank, m.Rule, m.Text); ok && lang == assistant.Spanish {
		r.Text = es
	}
	if m.Ask {
		r.Choices = []assistant.Choice{
			{Title: assistant.Translate(lang, "Yes, it was me"), Payload: alerts.AnswerPayload(m.Alert, alerts.Yes)},
			{Title: assistant.Translate(lang, "No, it wasn't"), Payload: alerts.AnswerPayload(m.Alert, alerts.No)},
		}
	}
	// Only a non-recurring change to the account (a suspected fraud) may go
	// outside the platform's 24-hour window, with Messenger's
	// ACCOUNT_UPDATE tag; routine alerts (purchases, deposits, balances)
	// are recurring content the tag must not carry
	// (https://developers.facebook.com/docs/messenger-platform/send-messages/message-tags).
	p := channels.Update
	if m.Rule == alerts.Suspicious {
		p = channels.AccountChange
	}
	var errs []error
	closed := 0
	for _, l := range ls {
		rr := r
		if full {
			rr.Disclosure = &assistant.Disclosure{Customer: c, Grant: l.Grant, Clusters: []consent.Cluster{consent.Transactions},
				Purpose: "alerts the customer turned on", What: "alert " + string(m.Rule)}
		}
		sent := false
		err := a.hub.SendOnce(ctx, l.Platform, "alert:"+m.ID+":"+l.User, func(ctx context.Context) error {
			err := a.hub.Notify(ctx, l.Key, rr, p)
			sent = err == nil
			return err
		})
		if sent && a.events != nil {
			// Counted here, per platform and once (a resend SendOnce drops
			// is not counted), rather than by Options.OnSent, which sees one
			// delivery for every chat the customer linked.
			a.events.Record(insights.Event{At: a.now().UTC(), Customer: c, Channel: app.ChatChannel(l.Platform), Kind: insights.AlertSent})
		}
		if errors.Is(err, channels.ErrWindowClosed) {
			closed++
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("alerts chat: %s: %w", l.Platform, err))
		}
	}
	if closed == len(ls) {
		// Every chat is outside its window: the delivery ends here, said
		// why; the alert itself stays in the app's notifications (and
		// went by e-mail when the customer set one), so nothing is lost.
		return errChatWindowClosed
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
	// store has the customers' chat settings: the answer is in the
	// language they chose. Nil answers in English.
	store assistant.Store
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
		if h.store != nil {
			if s, serr := h.store.Settings(ctx, c); serr == nil && s.Language == assistant.Spanish {
				return out.Spanish(), true, nil
			}
		}
		return out.Text, true, nil
	case k == bankbridge.NotFound || k == bankbridge.Conflict || k == bankbridge.Invalid:
		return bankbridge.ErrorMessage(err) + ".", true, nil
	default:
		return "", true, err
	}
}

// Report is assistant.Deps.Fraud: a card payment reported from a chat
// opens a case with the alerts service, once per payment.
func (h *alertAnswers) Report(ctx context.Context, r assistant.FraudReport) (string, error) {
	svc := h.svc.Load()
	if svc == nil {
		return "", bankbridge.E(bankbridge.Unavailable, "fraud_desk_unavailable", "fraud cases cannot be opened right now")
	}
	k, err := svc.Report(ctx, r.Customer, r.Transfer, r.Card, r.Amount, r.Currency)
	if err != nil {
		return "", err
	}
	return strconv.FormatInt(int64(k.ID), 10), nil
}

var _ assistant.FraudDesk = (*alertAnswers)(nil)

// alertsDeps is what alertsWiring needs.
type alertsDeps struct {
	store     alerts.Store
	ledger    alerts.Ledger
	hub       *channels.Hub   // nil: the messenger channel is off on this instance
	messenger assistant.Store // the hub's store: customers' chat links, shared by the fleet
	answers   *alertAnswers   // the assistant's Deps.Answer target; may be nil
	bankName  string
	options   alerts.Options // further tuning (Email, OnSent, ...); Channels, Links and Disclose are set here
	events    app.EventSink  // alerts sent to chats, per platform; nil for none
	log       *slog.Logger
	reg       prometheus.Registerer // the fallback counters; nil for none
}

// alertsWiring builds the alerts service: the customers' chat links as the
// link source, the messenger hub as the chat channel when the hub is on
// here, and "was this you?" answers from chats routed to it. The caller
// runs Service.Run.
//
// The links come from the shared store even when the hub is off on this
// instance (in a fleet, it may be on elsewhere): the chat deliveries are
// stored and left to an instance that has the channel, or end as dead
// letters saying none had it, rather than never being made.
func alertsWiring(d alertsDeps) *alerts.Service {
	o := d.options
	if o.Logger == nil {
		o.Logger = d.log
	}
	o.BankName = cmp.Or(o.BankName, d.bankName)
	// E-mails in the customer's language: the one the chat and the web app
	// share (assistant.Languages over the messenger store).
	// Every delivery of a full text (e-mail and chats) is written in that
	// language from the alert's facts at the time it is sent.
	if ls, ok := d.messenger.(assistant.Languages); ok && d.messenger != nil && o.Language == nil {
		o.Language = func(ctx context.Context, c bankbridge.CustomerID) string {
			l, err := ls.Language(ctx, c)
			if err != nil {
				return ""
			}
			return string(l)
		}
	}
	if ml, ok := o.Email.(*alerts.Mailer); ok && ml != nil {
		if ls, ok := d.messenger.(assistant.Languages); ok && d.messenger != nil {
			ml.Bank = o.BankName
			ml.Language = func(ctx context.Context, c bankbridge.CustomerID) string {
				l, err := ls.Language(ctx, c)
				if err != nil {
					return ""
				}
				return string(l)
			}
		}
	}
	if d.messenger != nil {
		ch := &chatAlerts{hub: d.hub, store: d.messenger, bank: o.BankName, events: d.events, now: o.Now}
		if ch.now == nil {
			ch.now = time.Now
		}
		o.Links = ch
		if d.hub != nil {
			if o.Channels == nil {
				o.Channels = map[string]alerts.Channel{}
			}
			o.Channels[chatAlertsChannel] = ch
			o.Disclose = ch.disclose
		}
	}
	svc := alerts.New(d.store, d.ledger, o)
	if d.answers != nil {
		d.answers.Set(svc)
	}
	return svc
}

// alertOptions sets what the configuration decides: e-mail through an SMTP
// relay when one is given (and, in a fleet, e-mail deliveries for the
// instances that have one), and engagement events for every alert sent and
// answered.
func alertOptions(c *app.Config, events *insights.Recorder) alerts.Options {
	var o alerts.Options
	if c.SMTP != "" {
		o.Email = &alerts.Mailer{Addr: c.SMTP, From: c.MailFrom}
	}
	// In a fleet another instance may have SMTP: e-mail deliveries are made
	// here all the same and left to it, or dead-lettered saying none has it.
	o.FleetEmail = c.Events != ""
	o.OnSent = func(cu bankbridge.CustomerID, ch string, _ alerts.Rule, at time.Time) {
		switch ch {
		case chatAlertsChannel:
			return // counted per platform by chatAlerts.Deliver
		case "web":
			events.Record(insights.Event{At: at, Customer: cu, Channel: insights.Web, Kind: insights.AlertSent})
		}
		// E-mail is no engagement channel of the reports.
	}
	o.OnAnswered = func(cu bankbridge.CustomerID, _ alerts.Answer, at time.Time) {
		events.Record(insights.Event{At: at, Customer: cu, Channel: insights.Messenger, Kind: insights.AlertAnswered})
	}
	return o
}

// startAlerts builds the alerts service and starts its work in the group
// work: in this process by default (read the outbox, decide, deliver), or,
// with --events nats://..., a relay of the outbox to the deployment's
// JetStream stream plus a consumer of it, so that several instances split
// the work and none is done twice; the NATS connection closes once they
// returned. It returns the function to call when the ledger committed a
// batch: it wakes the in-process worker, or the relay.
func startAlerts(ctx context.Context, work *workers, c *app.Config, d alertsDeps, b *app.Backend) (*alerts.Service, func(), error) {
	svc := alertsWiring(d)
	if d.reg != nil {
		d.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bankbridge_alerts_deliveries_released_total",
			Help: "Alert deliveries this instance handed back: their channel is not configured here."},
			func() float64 { return float64(svc.Stats().Released) }))
		d.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bankbridge_alerts_deliveries_unroutable_total",
			Help: "Alert deliveries dead-lettered here because no instance that claimed them had their channel."},
			func() float64 { return float64(svc.Stats().Unroutable) }))
	}
	if c.Events == "" {
		work.Go("alerts worker", func(ctx context.Context) error { return svc.Run(ctx, b.Ledger) })
		return svc, svc.Notify, nil
	}
	dep, err := stream.Resolve(ctx, c.Cluster, b.Deploy)
	if err != nil {
		return nil, nil, fmt.Errorf("--cluster: %w", err)
	}
	bus, err := stream.Dial(ctx, c.Events, dep, d.log)
	if err != nil {
		return nil, nil, fmt.Errorf("--events %s: %w", c.Events, err)
	}
	work.Cleanup(bus.Close)
	d.log.Info("alerts over NATS JetStream", "cluster", dep.Cluster, "database", dep.Database, "stream", bus.StreamName(),
		"subject", bus.Subject(), "consumer", bus.Durable())
	if d.reg != nil {
		d.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "bankbridge_alerts_stream_naks_total",
			Help: "Batches of ledger events handed back to JetStream for redelivery after processing failed."},
			func() float64 { return float64(bus.Stats().Naks) }))
	}
	// The relay wakes when this instance's ledger commits a batch, so an
	// event leaves at once; the poll covers batches other instances
	// committed (their own relays normally publish those first).
	wake := make(chan struct{}, 1)
	notify := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	work.Go("alerts relay", func(ctx context.Context) error {
		return bus.Relay(ctx, b.Ledger, b.Alerts, wake, 250*time.Millisecond)
	})
	work.Go("alerts consumer", func(ctx context.Context) error { return bus.Consume(ctx, svc, 200) })
	work.Go("alerts dispatcher", func(ctx context.Context) error { svc.RunDispatcher(ctx); return nil })
	return svc, notify, nil
}

// resetMailer is what sends password reset e-mails: the SMTP relay of the
// e-mail alerts, or nil when there is none (the web app then tells
// customers to call). A reset is sent at once from the instance that took
// the request, not through the alerts outbox: its link lives 30 minutes.
func resetMailer(c *app.Config) *alerts.Mailer {
	if c.SMTP == "" {
		return nil
	}
	return &alerts.Mailer{Addr: c.SMTP, From: c.MailFrom}
}
