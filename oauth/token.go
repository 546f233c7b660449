package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/bankbridge/bankbridge/consent"
)

// accessClaims are the claims of our access tokens, a JWT profile after
// RFC 9068 with the DPoP confirmation (RFC 9449 §6.1) and the consent id.
type accessClaims struct {
	Issuer   string           `json:"iss"`
	Subject  string           `json:"sub"`
	Audience jwt.Audience     `json:"aud"`
	Expiry   *jwt.NumericDate `json:"exp"`
	IssuedAt *jwt.NumericDate `json:"iat"`
	ID       string           `json:"jti"`
	ClientID string           `json:"client_id"`
	Scope    string           `json:"scope"`
	GrantID  string           `json:"grant_id"`
	// Lookback, when set, narrows the consent's look-back period (days)
	// for this token: a refresh asked for less.
	Lookback int `json:"lookback_days,omitempty"`
	Confirm  struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
	kid   string            // not a claim: the key that signed the token, set by parseAccess
	scope []consent.Cluster // not a claim: Scope parsed once, by parseAccess; shared, never modified
}

// verifierRe is a PKCE code verifier: 43-128 unreserved characters
// (RFC 7636 §4.1).
var verifierRe = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// token is the token endpoint (RFC 6749 §3.2). Every request carries a DPoP
// proof (the tokens are sender-constrained, FAPI 2.0 §5.3.2.1) and a
// private_key_jwt client assertion; the proof is checked first so that a
// use_dpop_nonce answer does not spend the assertion.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		writeError(w, badRequest("the body must be application/x-www-form-urlencoded"))
		return
	}
	if len(r.URL.Query()) > 0 {
		writeError(w, badRequest("parameters go in the body, not the query"))
		return
	}
	pr, _, oerr := s.endpointProof(r, PathToken, true)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	p, oerr := s.authenticateClient(r, r.PostForm)
	if oerr != nil {
		writeError(w, oerr)
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		oerr = s.exchangeCode(w, r, p, pr)
	case "refresh_token":
		oerr = s.refresh(w, r, p, pr)
	default:
		oerr = errf(http.StatusBadRequest, codeUnsupportedGrantType, "grant_type must be authorization_code or refresh_token")
	}
	if oerr != nil {
		writeError(w, oerr)
	}
}

// exchangeCode redeems an authorization code (RFC 6749 §4.1.3).
func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request, p consent.Partner, pr proof) *Error {
	ctx, form, now := r.Context(), r.PostForm, s.now()
	raw := form.Get("code")
	if raw == "" || len(raw) > 256 {
		return badRequest("code is required")
	}
	// The client was authenticated (token); the code is spent only by the
	// client it was issued to (RFC 6749 §4.1.3: "ensure that the
	// authorization code was issued to the authenticated confidential
	// client"), so another client presenting a stolen code neither spends
	// it nor makes the rightful exchange look like a replay that revokes the
	// customer's consent. Then it is spent before anything else is compared:
	// a wrong verifier or redirect URI costs its holder the code, never a
	// second try.
	code, err := s.store.UseCode(ctx, hashToken(raw), p.ID, now)
	switch {
	case errors.Is(err, consent.ErrCodeNotFound):
		return badGrant("the authorization code is unknown, expired or not this client's")
	case errors.Is(err, consent.ErrCodeReused):
		// RFC 6749 §4.1.2: a code used twice revokes what it granted.
		if _, err := s.d.Consent.Revoke(ctx, code.Grant, "system", "authorization code used twice (RFC 6749 §4.1.2)"); err != nil {
			return s.internal(r, err)
		}
		return badGrant("the authorization code was already used; the consent it led to is revoked")
	case err != nil:
		return s.internal(r, err)
	}
	verifier := form.Get("code_verifier")
	sum := sha256.Sum256([]byte(verifier))
	switch {
	case !now.Before(code.Expires):
		return badGrant("the authorization code has expired")
	case form.Get("redirect_uri") != code.RedirectURI: // RFC 6749 §4.1.3, exact
		return badGrant("redirect_uri differs from the authorization request's")
	case !verifierRe.MatchString(verifier):
		return badGrant("code_verifier is missing or malformed (PKCE, RFC 7636 §4.1)")
	case subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(code.CodeChallenge)) != 1: // RFC 7636 §4.6
		return badGrant("code_verifier does not match the code_challenge")
	case code.DPoPJKT != "" && code.DPoPJKT != pr.jkt: // RFC 9449 §10
		return badGrant("the DPoP key differs from the one bound to the authorization request")
	}
	g, _, err := s.d.Consent.Check(ctx, code.Grant)
	if err != nil {
		return s.grantError(r, err)
	}
	return s.issue(w, r, g, p, pr.jkt, g.Clusters(), 0, true)
}

// refresh answers a refresh_token grant (RFC 6749 §6). The refresh token is
// bound to the DPoP key it was issued to and is not rotated (FAPI 2.0
// §5.3.2.1 says not to); the access token may be narrowed, never widened.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request, p consent.Partner, pr proof) *Error {
	ctx, form := r.Context(), r.PostForm
	raw := form.Get("refresh_token")
	if raw == "" || len(raw) > 256 {
		return badRequest("refresh_token is required")
	}
	rt, err := s.store.RefreshToken(ctx, hashToken(raw))
	switch {
	case errors.Is(err, consent.ErrTokenNotFound):
		return badGrant("the refresh token is unknown")
	case err != nil:
		return s.internal(r, err)
	case rt.Partner != p.ID:
		return badGrant("the refresh token was issued to another client")
	case rt.JKT != pr.jkt: // RFC 9449 §5
		return badGrant("the refresh token is bound to another DPoP key")
	}
	g, _, err := s.d.Consent.Check(ctx, rt.Grant)
	if err != nil {
		return s.grantError(r, err)
	}
	// RFC 6749 §6 and RFC 9396 §7: a refresh may ask for less than the
	// consent (scope, authorization_details or both), never for more; the
	// token carries exactly what is left, and the response says so.
	granted := g.Clusters()
	clusters := granted
	if sc := form.Get("scope"); sc != "" {
		asked := strings.Fields(sc)
		if !subset(asked, granted) {
			return errf(http.StatusBadRequest, codeInvalidScope, "scope asks for more than the consent covers")
		}
		clusters = keep(clusters, asked)
	}
	lookback := 0 // the consent's
	if form.Has("authorization_details") {
		want, err := parseDetails(form.Get("authorization_details"))
		if err != nil {
			return errf(http.StatusBadRequest, codeInvalidDetails, err.Error())
		}
		names := make([]string, len(want.clusters))
		for i, c := range want.clusters {
			if !slices.Contains(granted, c) {
				return errf(http.StatusBadRequest, codeInvalidDetails, string(c)+" is not in the consent")
			}
			names[i] = string(c)
		}
		// A value left out is the consent's own, not a new request's
		// default (which a shorter consent would refuse). A shorter
		// durationPeriod is accepted and changes nothing: the consent's end
		// is fixed, and no token outlives it.
		switch {
		case want.durationSet && want.duration > g.DurationDays:
			return errf(http.StatusBadRequest, codeInvalidDetails, fmt.Sprintf("durationPeriod exceeds the consent's %d days", g.DurationDays))
		case want.lookbkSet && want.lookbk > g.LookbackDays:
			return errf(http.StatusBadRequest, codeInvalidDetails, fmt.Sprintf("lookbackPeriod exceeds the consent's %d days", g.LookbackDays))
		case want.lookbkSet && want.lookbk < g.LookbackDays:
			lookback = want.lookbk
		}
		clusters = keep(clusters, names)
	}
	if len(clusters) == 0 {
		return errf(http.StatusBadRequest, codeInvalidScope, "scope and authorization_details share no data cluster")
	}
	return s.issue(w, r, g, p, pr.jkt, clusters, lookback, false)
}

// keep returns the clusters named in names, in the order of cs.
func keep(cs []consent.Cluster, names []string) []consent.Cluster {
	var out []consent.Cluster
	for _, c := range cs {
		if slices.Contains(names, string(c)) {
			out = append(out, c)
		}
	}
	return out
}

// grantError turns a failed consent check into invalid_grant.
func (s *Server) grantError(r *http.Request, err error) *Error {
	switch {
	case errors.Is(err, consent.ErrGrantRevoked):
		return badGrant("the consent was revoked")
	case errors.Is(err, consent.ErrGrantExpired):
		return badGrant("the consent has expired")
	case errors.Is(err, consent.ErrPartnerInactive):
		return badGrant("the client is suspended")
	case errors.Is(err, consent.ErrGrantNotFound):
		return badGrant("no such consent")
	}
	return s.internal(r, err)
}

// issue answers with a DPoP-bound access token for the consent and, on the
// first exchange, a refresh token bound to the same key. The token carries
// clusters and, when narrower than the consent's, lookback days (0: the
// consent's); authorization_details says exactly that (RFC 9396 §7).
func (s *Server) issue(w http.ResponseWriter, r *http.Request, g consent.Grant, p consent.Partner, jkt string, clusters []consent.Cluster, lookback int, withRefresh bool) *Error {
	now := s.now()
	at, c, err := s.mintAccess(g, p, jkt, clusters, lookback, now)
	if err != nil {
		return s.internal(r, err)
	}
	body := map[string]any{
		"access_token":          at,
		"token_type":            "DPoP", // RFC 9449 §5
		"expires_in":            int(c.Expiry.Time().Sub(now) / time.Second),
		"scope":                 c.Scope,
		"grant_id":              string(g.ID), // RFC 9396 §6, FDX: names the consent
		"authorization_details": s.detailsOf(g, clusters, lookback),
	}
	if withRefresh {
		rt := randomToken()
		if err := s.store.SaveRefreshToken(r.Context(), consent.RefreshToken{Hash: hashToken(rt), Grant: g.ID, Partner: p.ID, JKT: jkt, Created: now}); err != nil {
			return s.internal(r, err)
		}
		body["refresh_token"] = rt
	}
	if !s.d.NoNonce {
		w.Header().Set("DPoP-Nonce", s.nonce(now))
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}

// mintAccess signs an access token for the consent, bound to the DPoP key
// thumbprint jkt, living AccessTTL but never past the consent's end.
func (s *Server) mintAccess(g consent.Grant, p consent.Partner, jkt string, clusters []consent.Cluster, lookback int, now time.Time) (string, accessClaims, error) {
	ttl := s.d.AccessTTL
	if left := g.Expires.Sub(now); left < ttl {
		ttl = left.Truncate(time.Second)
	}
	scope := make([]string, len(clusters))
	for i, c := range clusters {
		scope[i] = string(c)
	}
	c := accessClaims{
		Issuer: s.d.Issuer, Subject: s.subject(p.ID, g.Customer), Audience: jwt.Audience{s.d.Issuer},
		Expiry: jwt.NewNumericDate(now.Add(ttl)), IssuedAt: jwt.NewNumericDate(now), ID: randomToken()[:22],
		ClientID: string(p.ID), Scope: strings.Join(scope, " "), GrantID: string(g.ID), Lookback: lookback,
	}
	c.Confirm.JKT = jkt
	ks, err := s.keySet(context.Background())
	if err != nil {
		return "", c, err
	}
	at, err := jwt.Signed(ks.signer).Claims(c).Serialize()
	return at, c, err
}
