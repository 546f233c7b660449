package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/scheduled"
)

// ScheduledLease is the lease of the scheduled payments' worker: one
// instance of the fleet runs it at a time. The claim in the store and the
// per-occurrence key keep it correct if two ever overlap (a lease lost
// while its holder is still mid-run).
const ScheduledLease = "scheduled-payments"

// ScheduledWiring builds the scheduled payments' service: external payees
// through rl (nil: those orders are refused as "not available"), the
// fleet's limits, notices through al (nil: none), dates in the bank's time
// zone loc (nil: UTC).
func ScheduledWiring(b *Backend, led *ledger.Service, rl *rails.Service, al *alerts.Service, log *slog.Logger, loc *time.Location) *scheduled.Service {
	o := scheduled.Options{Logger: log, Location: loc}
	if b.Limits != nil { // never a nil pointer inside an interface
		o.Limits = b.Limits
	}
	if rl != nil {
		o.Payer = rl
	}
	if al != nil {
		o.Teller = teller{al}
	}
	return scheduled.New(b.Scheduled, led, o)
}

// teller tells customers of scheduled payments through the alerts
// service: the notification centre, e-mail and chats.
type teller struct{ al *alerts.Service }

func (t teller) Tell(ctx context.Context, c bankbridge.CustomerID, key string, n scheduled.Notice) error {
	return t.al.Tell(ctx, c, key, alerts.Notice(n))
}
