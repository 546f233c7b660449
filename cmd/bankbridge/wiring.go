package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// consentAudit writes every consent event to the disclosure log, so a
// customer's "who saw my data" page and a regulator's export show when each
// consent was given, used, revoked or expired, and by whom.
func consentAudit(alog *audit.Log, log *slog.Logger) consent.Hook {
	kinds := map[consent.EventKind]audit.Kind{
		consent.EventGranted:      audit.ConsentGranted,
		consent.EventReauthorised: audit.ConsentGranted,
		consent.EventUsed:         audit.ConsentUsed,
		consent.EventRevoked:      audit.ConsentRevoked,
		consent.EventExpired:      audit.ConsentExpired,
	}
	return consent.HookFunc(func(ctx context.Context, e consent.Event) {
		kind, ok := kinds[e.Kind]
		if !ok {
			return
		}
		g := e.Grant
		rec := audit.Record{Time: e.At, Kind: kind, Partner: string(g.Partner), Consent: string(g.ID),
			Customer: g.Customer, Actor: e.By, Detail: string(e.Kind)}
		if e.Reason != "" {
			rec.Detail += ": " + e.Reason
		}
		seen := map[string]bool{}
		for _, r := range g.Resources {
			rec.Accounts = append(rec.Accounts, ledger.AccountID(r.Account))
			for _, c := range r.Clusters {
				if !seen[string(c)] {
					seen[string(c)] = true
					rec.Clusters = append(rec.Clusters, string(c))
				}
			}
		}
		for _, c := range rec.Clusters {
			if p := g.Purposes[consent.Cluster(c)]; p != "" && rec.Purpose == "" {
				rec.Purpose = p
			}
		}
		if err := alog.Post(ctx, rec); err != nil {
			log.Warn("audit consent event", "kind", kind, "consent", g.ID, "err", err)
		}
	})
}

// sweepConsents marks consents past their end date as expired every minute.
// Expiry does not wait for it: every use compares the end date with the
// clock; the sweep makes the status and the audit record follow.
func sweepConsents(ctx context.Context, cons *consent.Service, log *slog.Logger) {
	every(ctx, time.Minute, func() {
		if _, err := cons.Sweep(ctx); err != nil {
			log.Warn("sweep consents", "err", err)
		}
	})
}
