package app

import (
	"context"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/insights"
)

// EventSink takes engagement events without blocking: *insights.Recorder.
type EventSink interface {
	Record(e insights.Event)
}

// ChatChannel is the engagement channel of a chat platform
// ("messenger", "telegram", "whatsapp"); Messenger for one it does not
// know, so that a new platform is counted somewhere until it gets its own.
func ChatChannel(platform string) insights.Channel {
	if c := insights.Channel(platform); c.Known() && !c.Own() && c != insights.PartnerAPI {
		return c
	}
	return insights.Messenger
}

// chatIntent names an assistant intent as the engagement reports do (the
// names the web app and the seeded history use).
func chatIntent(k assistant.IntentKind) string {
	switch k {
	case assistant.Transactions, assistant.Spending:
		return "history"
	case assistant.FreezeCard, assistant.UnfreezeCard:
		return "card"
	case assistant.Human:
		return "human"
	case "":
		return string(assistant.Unknown)
	}
	return string(k)
}

// ChatEngagement records every message a linked customer wrote on a chat
// platform as an Intent on that platform's channel, dated by the platform,
// and a payment made from it as a Payment (its amount is not known to the
// channel: 0).
func ChatEngagement(sink EventSink) channels.Engagement {
	return channels.EngagementFunc(func(platform string, c bankbridge.CustomerID, intent assistant.IntentKind, paid bool, at time.Time) {
		ch := ChatChannel(platform)
		sink.Record(insights.Event{At: at, Customer: c, Channel: ch, Kind: insights.Intent, Intent: chatIntent(intent)})
		if paid {
			sink.Record(insights.Event{At: at, Customer: c, Channel: ch, Kind: insights.Payment, Intent: "payment"})
		}
	})
}

// partnerEngagement is the data API's Auditor that also records each call
// that reached a customer's data as a PartnerAPI engagement event: reads
// of accounts and balances as "balance", of transactions and statements as
// "history", a payment created as a Payment. Refused calls (Denied) are
// not engagement.
type partnerEngagement struct {
	dataapi.Auditor
	sink EventSink
	now  func() time.Time
}

// PartnerEngagement wraps the data API's Auditor so that partner-API calls
// feed the engagement reports.
func PartnerEngagement(a dataapi.Auditor, sink EventSink, now func() time.Time) dataapi.Auditor {
	if now == nil {
		now = time.Now
	}
	return &partnerEngagement{Auditor: a, sink: sink, now: now}
}

// Start implements dataapi.Auditor.
func (p *partnerEngagement) Start(ctx context.Context, rec audit.Record) *audit.Pending {
	if rec.Kind == audit.DataAccess && rec.Outcome != audit.Denied && rec.Customer != 0 {
		kind, intent := insights.Action, "other"
		switch op := rec.Detail; {
		case strings.HasPrefix(op, "POST ") && strings.HasSuffix(op, "/payments"):
			kind, intent = insights.Payment, "payment"
		case strings.Contains(op, "/transactions") || strings.Contains(op, "/statements"):
			intent = "history"
		case strings.Contains(op, "/accounts") || strings.Contains(op, "/customers/"):
			intent = "balance"
		}
		p.sink.Record(insights.Event{At: p.now().UTC(), Customer: rec.Customer, Channel: insights.PartnerAPI, Kind: kind, Intent: intent})
	}
	return p.Auditor.Start(ctx, rec)
}
