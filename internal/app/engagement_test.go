package app

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/insights"
)

type sink struct {
	mu  sync.Mutex
	evs []insights.Event
}

func (s *sink) Record(e insights.Event) { s.mu.Lock(); s.evs = append(s.evs, e); s.mu.Unlock() }

type nopAuditor struct{ n int }

func (a *nopAuditor) Start(context.Context, audit.Record) *audit.Pending { a.n++; return nil }

func TestChatEngagement(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	s := &sink{}
	e := ChatEngagement(s)
	e.Chat("telegram", 7, assistant.Transactions, false, at)
	e.Chat("whatsapp", 8, assistant.Confirm, true, at)
	e.Chat("somewhere-new", 9, assistant.Balance, false, at)
	want := []insights.Event{
		{At: at, Customer: 7, Channel: insights.Telegram, Kind: insights.Intent, Intent: "history"},
		{At: at, Customer: 8, Channel: insights.WhatsApp, Kind: insights.Intent, Intent: "confirm"},
		{At: at, Customer: 8, Channel: insights.WhatsApp, Kind: insights.Payment, Intent: "payment"},
		{At: at, Customer: 9, Channel: insights.Messenger, Kind: insights.Intent, Intent: "balance"},
	}
	if d := cmp.Diff(want, s.evs); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}

func TestPartnerEngagement(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	s, inner := &sink{}, &nopAuditor{}
	a := PartnerEngagement(inner, s, func() time.Time { return at })
	ctx := context.Background()
	for _, r := range []audit.Record{
		{Kind: audit.DataAccess, Customer: 1, Detail: "GET /fdx/v6/accounts/{accountId}/balances"},
		{Kind: audit.DataAccess, Customer: 1, Detail: "GET /fdx/v6/accounts/{accountId}/transactions"},
		{Kind: audit.DataAccess, Customer: 2, Detail: "POST /fdx/v6/payments"},
		{Kind: audit.DataAccess, Customer: 2, Detail: "GET /fdx/v6/accounts", Outcome: audit.Denied}, // refused: not engagement
		{Kind: audit.ConsentUsed, Customer: 2},                                                       // not a call
	} {
		a.Start(ctx, r)
	}
	if inner.n != 5 {
		t.Errorf("the inner auditor saw %d records, want every one (5)", inner.n)
	}
	want := []insights.Event{
		{At: at, Customer: 1, Channel: insights.PartnerAPI, Kind: insights.Action, Intent: "balance"},
		{At: at, Customer: 1, Channel: insights.PartnerAPI, Kind: insights.Action, Intent: "history"},
		{At: at, Customer: 2, Channel: insights.PartnerAPI, Kind: insights.Payment, Intent: "payment"},
	}
	if d := cmp.Diff(want, s.evs); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}
