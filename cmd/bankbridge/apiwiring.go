package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/oauth"
)

// partnerConsent builds the consent service the partner-facing surface
// runs on: every consent event goes to the disclosure log, every partner
// change too, and consent changes reach the data API's partners (revoked,
// updated) once bind has been given the API. The API needs the consent
// service to be built, hence the late binding; events before bind are not
// sent to partners (there is no API to send them yet). extra hooks (the
// messenger's, in serve) run after those.
func partnerConsent(b *backend, alog *audit.Log, log *slog.Logger, extra ...consent.Hook) (cons *consent.Service, bind func(*dataapi.Server)) {
	api := &consent.LateHook{}
	cons = consent.New(b.consent, consent.Options{Accounts: b.ledger,
		Hooks: append([]consent.Hook{consentAudit(alog, log), api}, extra...), PartnerHooks: []consent.PartnerHook{partnerAudit(alog, log)}})
	return cons, func(s *dataapi.Server) { api.Set(s) }
}

// partnerAPIDeps is what partnerAPI needs.
type partnerAPIDeps struct {
	backend  *backend
	consent  *consent.Service
	ledger   *ledger.Service
	identity *identity.Service
	audit    *audit.Log
	log      *slog.Logger
	reg      prometheus.Registerer // optional
	// issuer is the bank's public base URL: the authorization server's
	// identifier and the base of the payment confirmation links.
	issuer  string
	options dataapi.Options
}

// partnerAPI builds the authorization server (FAPI 2.0: PAR, PKCE,
// private_key_jwt, DPoP) and the data API behind its Verifier, and binds
// the API to the consent hook from partnerConsent. The caller mounts
// oauth.Handler() at /oauth/ and /.well-known/, the API at dataapi.Prefix,
// /openapi.json and /docs/api, and runs api.Run.
func partnerAPI(ctx context.Context, d partnerAPIDeps, bind func(*dataapi.Server)) (*oauth.Server, *dataapi.Server, error) {
	as, err := oauth.New(ctx, oauth.Deps{Consent: d.consent, Issuer: d.issuer, Logger: d.log})
	if err != nil {
		return nil, nil, err
	}
	if d.options.Lease == nil {
		d.options.Lease = d.backend.lease // notifications: one instance of the fleet delivers
	}
	var limits dataapi.Limiter // nil: in memory, SQLite's one process
	if d.backend.limits != nil {
		limits = dataapi.NewFleetLimiter(d.backend.limits, d.log, nil)
	}
	api, err := dataapi.New(ctx, dataapi.Deps{Verifier: as.Verifier(oauth.VerifierOptions{}), Consents: d.consent, Ledger: d.ledger,
		Customers: d.identity, Audit: d.audit, Store: d.backend.dataapi, Registerer: d.reg, Logger: d.log, BaseURL: d.issuer,
		Limiter: limits, Options: d.options})
	if err != nil {
		return nil, nil, err
	}
	if bind != nil {
		bind(api)
	}
	return as, api, nil
}
