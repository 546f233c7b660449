package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/oauth"
)

// AuditLinger is how long the disclosure log holds a commit open for more
// records (audit.Options.Linger): a data API call waits up to this much
// longer for its record, and at a thousand calls a second a commit carries
// a few records instead of one, which costs the instance a few times less
// CPU (and SQLite fewer fsyncs). docs/dataapi.md has the measurements.
const AuditLinger = 2 * time.Millisecond

// PartnerConsent builds the consent service the partner-facing surface
// runs on: every consent event goes to the disclosure log, every partner
// change too, and consent changes reach the data API's partners (revoked,
// updated) once bind has been given the API. The API needs the consent
// service to be built, hence the late binding; events before bind are not
// sent to partners (there is no API to send them yet). extra hooks (the
// messenger's, in serve) run after those.
func PartnerConsent(b *Backend, alog *audit.Log, log *slog.Logger, extra ...consent.Hook) (cons *consent.Service, bind func(*dataapi.Server)) {
	api := &consent.LateHook{}
	cons = consent.New(b.Consent, consent.Options{Accounts: b.Ledger,
		Hooks: append([]consent.Hook{ConsentAudit(alog, log), api}, extra...), PartnerHooks: []consent.PartnerHook{PartnerAudit(alog, log)}})
	return cons, func(s *dataapi.Server) { api.Set(s) }
}

// PartnerAPIDeps is what PartnerAPI needs.
type PartnerAPIDeps struct {
	Backend  *Backend
	Consent  *consent.Service
	Ledger   *ledger.Service
	Identity *identity.Service
	Audit    *audit.Log
	Keys     oauth.Keys // the OAuth signing keys; nil: one in memory (benchmarks)
	Log      *slog.Logger
	Reg      prometheus.Registerer // optional
	// Issuer is the bank's public base URL: the authorization server's
	// identifier and the base of the payment confirmation links.
	Issuer  string
	Options dataapi.Options
	// Events, optional, receives an engagement event for every call that
	// reached a customer's data (PartnerEngagement).
	Events EventSink
	// Rails, optional, lets partners pay payees at other banks.
	Rails dataapi.Rails
}

// PartnerAPI builds the authorization server (FAPI 2.0: PAR, PKCE,
// private_key_jwt, DPoP) and the data API behind its Verifier, and binds
// the API to the consent hook from PartnerConsent. The caller mounts
// oauth.Handler() at /oauth/ and /.well-known/, the API at dataapi.Prefix,
// /openapi.json and /docs/api, and runs api.Run.
func PartnerAPI(ctx context.Context, d PartnerAPIDeps, bind func(*dataapi.Server)) (*oauth.Server, *dataapi.Server, error) {
	as, err := oauth.New(ctx, oauth.Deps{Consent: d.Consent, Issuer: d.Issuer, Keys: d.Keys, Logger: d.Log})
	if err != nil {
		return nil, nil, err
	}
	if d.Options.Lease == nil {
		d.Options.Lease = d.Backend.Lease // notifications: one instance of the fleet delivers
	}
	var budgets dataapi.Limiter // nil: in memory, SQLite's one process
	if d.Backend.RateLimits != nil {
		budgets = dataapi.NewFleetLimiter(d.Backend.RateLimits, d.Log, nil)
	}
	var auditor dataapi.Auditor = d.Audit
	if d.Events != nil {
		auditor = PartnerEngagement(d.Audit, d.Events, nil)
	}
	api, err := dataapi.New(ctx, dataapi.Deps{Verifier: as.Verifier(oauth.VerifierOptions{}), Consents: d.Consent, Ledger: d.Ledger, Payments: d.Backend.Limits,
		Customers: d.Identity, Audit: auditor, Store: d.Backend.DataAPI, Registerer: d.Reg, Logger: d.Log, BaseURL: d.Issuer,
		Limiter: budgets, Options: d.Options, Rails: d.Rails, Language: customerLanguage(d.Backend)})
	if err != nil {
		return nil, nil, err
	}
	if bind != nil {
		bind(api)
	}
	return as, api, nil
}

// customerLanguage reads the language each customer chose, the one setting
// the web app, e-mail and chat share (assistant.Languages over the
// messenger store): "es", "en", or "" when they never chose or it cannot be
// read. Nil without a messenger store.
func customerLanguage(b *Backend) func(ctx context.Context, c bankbridge.CustomerID) string {
	if b == nil || b.Messenger == nil {
		return nil
	}
	ls, ok := b.Messenger.(assistant.Languages)
	if !ok {
		return nil
	}
	return func(ctx context.Context, c bankbridge.CustomerID) string {
		l, err := ls.Language(ctx, c)
		if err != nil {
			return ""
		}
		return string(l)
	}
}
