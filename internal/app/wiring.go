package app

import (
	"context"
	"log/slog"
	"unicode/utf8"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// ConsentAudit writes every consent event to the disclosure log, so a
// customer's "who saw my data" page and a regulator's export show when each
// consent was given, used, revoked or expired, and by whom.
func ConsentAudit(alog *audit.Log, log *slog.Logger) consent.Hook {
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

// PartnerAudit writes every partner change (registered, suspended,
// reinstated, refused) to the audit log with who made it and the reason, so
// a refusal or suspension can be shown later to have had a stated cause.
func PartnerAudit(alog *audit.Log, log *slog.Logger) consent.PartnerHook {
	return consent.PartnerHookFunc(func(ctx context.Context, e consent.PartnerEvent) {
		rec := audit.Record{Time: e.At, Kind: audit.PartnerChange, Partner: string(e.Partner), Actor: e.By,
			Outcome: audit.OK, Detail: clip(string(e.Action)+": "+e.Reason, 512)}
		if rec.Actor == "" {
			rec.Actor = "system"
		}
		if err := alog.Post(ctx, rec); err != nil {
			log.Warn("audit partner change", "partner", e.Partner, "action", e.Action, "err", err)
		}
	})
}

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
