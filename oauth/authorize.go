package oauth

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/bankbridge/bankbridge/consent"
)

// authorize is the authorization endpoint (RFC 6749 §3.1) as PAR leaves it
// (RFC 9126 §4): it takes only client_id and a request_uri we issued, and
// sends the browser to the bank's consent screen. Nothing else in the query
// is used. Errors here are shown to the person, never redirected: until the
// request is found, the redirect URI is not known to be the client's
// (RFC 6749 §4.1.2.1).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id, ok := strings.CutPrefix(q.Get("request_uri"), RequestURIPrefix)
	if !ok || id == "" {
		s.authorizePage(w, http.StatusBadRequest, "This sign-in link is not complete. Go back to the app and start again.")
		return
	}
	req, err := s.store.Request(r.Context(), id)
	if errors.Is(err, consent.ErrRequestNotFound) || (err == nil && (!s.now().Before(req.Expires) || string(req.Partner) != q.Get("client_id"))) {
		s.authorizePage(w, http.StatusBadRequest, "This sign-in link has expired or was already used. Go back to the app and start again.")
		return
	}
	if err != nil {
		s.internal(r, err)
		s.authorizePage(w, http.StatusInternalServerError, "Something went wrong on our side. Please try again in a moment.")
		return
	}
	http.Redirect(w, r, s.d.ConsentPath+"?request="+url.QueryEscape(req.ID), http.StatusSeeOther)
}

var authorizeTmpl = template.Must(template.New("a").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">` +
	`<meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign-in link</title></head>` +
	`<body><main><h1>We could not continue</h1><p>{{.}}</p></main></body></html>`))

func (s *Server) authorizePage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	authorizeTmpl.Execute(w, msg)
}

// PendingRequest returns a pushed request still waiting for the customer,
// with its partner, for the consent screen. Errors:
// consent.ErrRequestNotFound (also once expired or decided),
// consent.ErrPartnerInactive.
func (s *Server) PendingRequest(ctx context.Context, id string) (consent.Request, consent.Partner, error) {
	q, err := s.store.Request(ctx, id)
	if err != nil {
		return consent.Request{}, consent.Partner{}, err
	}
	if !s.now().Before(q.Expires) {
		return consent.Request{}, consent.Partner{}, consent.ErrRequestNotFound
	}
	p, err := s.d.Consent.Partner(ctx, q.Partner)
	if err != nil {
		return consent.Request{}, consent.Partner{}, err
	}
	if p.Status != consent.PartnerActive {
		return consent.Request{}, consent.Partner{}, consent.ErrPartnerInactive
	}
	return q, p, nil
}

// Decide records the customer's answer to a pushed request and returns
// where to send the browser: the partner's redirect URI with code, state and
// iss (RFC 9207 §2) on approval, or error=access_denied with state and iss
// on refusal. Each request is decided once. Errors:
// consent.ErrRequestNotFound, consent.ErrGrantInvalid (nothing chosen, bad
// duration; the request stays pending), and NewGrant's errors.
func (s *Server) Decide(ctx context.Context, d consent.Decision) (string, error) {
	const op = "oauth.Decide"
	q, err := s.store.Request(ctx, d.Request)
	if err != nil {
		return "", err
	}
	if !s.now().Before(q.Expires) {
		return "", consent.ErrRequestNotFound
	}
	days := d.DurationDays
	if days == 0 {
		days = q.DurationDays
	}
	if d.Approve {
		// Checked before the request is spent, so the customer can correct it.
		switch {
		case len(d.Accounts) == 0:
			return "", consent.ErrGrantInvalid.WithMessage("choose at least one account to share").WithOp(op, nil)
		case days < 1 || days > consent.MaxDays:
			return "", consent.ErrGrantInvalid.WithMessage(fmt.Sprintf("choose between 1 and %d days", consent.MaxDays)).WithOp(op, nil)
		}
	}
	if q, err = s.store.TakeRequest(ctx, d.Request); err != nil {
		return "", err
	}
	back, err := url.Parse(q.RedirectURI)
	if err != nil {
		return "", fmt.Errorf("%s: stored redirect URI: %w", op, err)
	}
	vals := back.Query() // RFC 6749 §3.1.2: keep the registered URI's own query
	if q.State != "" {
		vals.Set("state", q.State)
	}
	vals.Set("iss", s.d.Issuer) // RFC 9207 §2
	if !d.Approve {
		vals.Set("error", codeAccessDenied)
		vals.Set("error_description", "the customer declined")
		back.RawQuery = vals.Encode()
		return back.String(), nil
	}
	res := make([]consent.Resource, len(d.Accounts))
	for i, a := range d.Accounts {
		res[i] = consent.Resource{Account: a, Clusters: q.Clusters}
	}
	g, err := s.d.Consent.NewGrant(ctx, consent.GrantRequest{
		Customer: d.Customer, Partner: q.Partner, Resources: res, DurationDays: days, LookbackDays: q.LookbackDays,
	})
	if err != nil {
		return "", err
	}
	code := randomToken()
	err = s.store.SaveCode(ctx, consent.Code{
		Hash: hashToken(code), Grant: g.ID, Partner: q.Partner, RedirectURI: q.RedirectURI,
		CodeChallenge: q.CodeChallenge, DPoPJKT: q.DPoPJKT, Expires: s.now().Add(CodeTTL),
	})
	if err != nil {
		return "", err
	}
	vals.Set("code", code)
	back.RawQuery = vals.Encode()
	return back.String(), nil
}

// RedirectOrigin returns the scheme and host a request will send the browser
// back to, for the consent page's Content-Security-Policy form-action (a
// form's redirect to another origin is checked against it).
func RedirectOrigin(q consent.Request) string {
	u, err := url.Parse(q.RedirectURI)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// detailsOf describes, for the token response and introspection, what a
// token carries (RFC 9396 §7: the authorization details actually granted):
// the consent's accounts by their partner ids, each with the clusters both
// the consent and the token name (an account left with none is left out),
// the consent's duration, and the look-back narrowed to lookback days when
// it is not 0.
func (s *Server) detailsOf(g consent.Grant, clusters []consent.Cluster, lookback int) []AuthorizationDetail {
	rs := make([]DetailsResource, 0, len(g.Resources))
	for _, r := range g.Resources {
		var cs []consent.Cluster
		for _, c := range r.Clusters {
			if slices.Contains(clusters, c) {
				cs = append(cs, c)
			}
		}
		if len(cs) > 0 {
			rs = append(rs, DetailsResource{ResourceType: "ACCOUNT", ResourceID: s.accountID(g.Partner, r.Account), DataClusters: cs})
		}
	}
	if lookback == 0 || lookback > g.LookbackDays {
		lookback = g.LookbackDays
	}
	return []AuthorizationDetail{{Type: DetailsType, ConsentRequest: ConsentRequest{
		DurationType: string(g.DurationType), DurationPeriod: g.DurationDays, LookbackPeriod: lookback, Resources: rs,
	}}}
}
