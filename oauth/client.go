package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/bankbridge/bankbridge/consent"
)

// AssertionType is the client_assertion_type of private_key_jwt
// (RFC 7523 §2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Bounds on client assertions.
const (
	maxAssertion     = 8 << 10          // bytes; a JWT with one signature is far smaller
	maxAssertionLife = 10 * time.Minute // exp may be at most this far ahead
	jwksURITTL       = 5 * time.Minute  // how long fetched partner keys are trusted
)

// partnerKeys is a partner's parsed key set, valid while the partner record
// is unchanged (inline keys) or until fetched+jwksURITTL (jwks_uri).
type partnerKeys struct {
	updated time.Time
	fetched time.Time
	set     jose.JSONWebKeySet
}

// assertionClaims are the claims RFC 7523 §3 requires of a client assertion.
type assertionClaims struct {
	Issuer    string           `json:"iss"`
	Subject   string           `json:"sub"`
	Audience  jwt.Audience     `json:"aud"`
	Expiry    *jwt.NumericDate `json:"exp"`
	IssuedAt  *jwt.NumericDate `json:"iat"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	ID        string           `json:"jti"`
}

// parseAssertion parses a client assertion without verifying it and returns
// the token and its unverified issuer, which names the key to verify with.
// Only the FAPI 2.0 algorithms are accepted: "none" and HMAC never parse.
func parseAssertion(raw string) (*jwt.JSONWebToken, string, error) {
	if len(raw) == 0 || len(raw) > maxAssertion {
		return nil, "", errors.New("client_assertion missing or too long")
	}
	tok, err := jwt.ParseSigned(raw, consent.SigningAlgs)
	if err != nil {
		return nil, "", err
	}
	if len(tok.Headers) != 1 {
		return nil, "", errors.New("exactly one signature expected")
	}
	var c assertionClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return nil, "", err
	}
	if c.Issuer == "" {
		return nil, "", errors.New("no iss")
	}
	return tok, c.Issuer, nil
}

// authenticateClient checks private_key_jwt client authentication
// (RFC 7523 §3, RFC 7521 §4.2) on a parsed form and returns the active
// partner it proves. FAPI 2.0 §5.3.2.1 allows no other method; the
// audience must be exactly the issuer, and each assertion is accepted once.
func (s *Server) authenticateClient(r *http.Request, form url.Values) (consent.Partner, *Error) {
	if _, _, ok := r.BasicAuth(); ok {
		return consent.Partner{}, badRequest("use private_key_jwt only, not HTTP Basic")
	}
	if form.Get("client_assertion_type") != AssertionType {
		return consent.Partner{}, badClient("client authentication must be private_key_jwt (client_assertion_type " + AssertionType + ")")
	}
	tok, iss, err := parseAssertion(form.Get("client_assertion"))
	if err != nil {
		return consent.Partner{}, badClient("client_assertion is not a signed JWT of an allowed algorithm (PS256, ES256, EdDSA)")
	}
	if id := form.Get("client_id"); id != "" && id != iss {
		return consent.Partner{}, badClient("client_id does not match the assertion's issuer") // RFC 7521 §4.2
	}
	p, err := s.d.Consent.Partner(r.Context(), consent.PartnerID(iss))
	if errors.Is(err, consent.ErrPartnerNotFound) || (err == nil && !p.ID.Valid()) {
		return consent.Partner{}, badClient("unknown client")
	}
	if err != nil {
		return consent.Partner{}, s.internal(r, err)
	}
	if p.Status != consent.PartnerActive {
		return consent.Partner{}, badClient("the client is suspended")
	}
	keys, err := s.partnerKeys(r.Context(), p)
	if err != nil {
		s.d.Logger.WarnContext(r.Context(), "oauth: partner keys", "partner", p.ID, "err", err)
		return consent.Partner{}, badClient("the client's keys could not be loaded")
	}
	var c assertionClaims
	var aud struct {
		Aud json.RawMessage `json:"aud"`
	}
	if !verifyWith(keys, tok.Headers[0], func(k any) bool { return tok.Claims(k, &c, &aud) == nil }) {
		return consent.Partner{}, badClient("the client assertion's signature does not verify with the client's keys")
	}
	now := s.now()
	switch {
	case c.Issuer != string(p.ID) || c.Subject != string(p.ID):
		return consent.Partner{}, badClient("iss and sub must both be the client_id") // RFC 7523 §3 items 1-2
	case len(aud.Aud) == 0 || aud.Aud[0] != '"' || len(c.Audience) != 1 || c.Audience[0] != s.d.Issuer:
		// RFC 7523 §3 item 3 lets aud be an array; draft-ietf-oauth-rfc7523bis
		// §4 (and FAPI 2.0 Security Profile §5.3.2.1, which takes the issuer
		// as the one audience) requires a single string, closing the
		// audience-injection attacks an array allows.
		return consent.Partner{}, badClient("aud must be the issuer identifier " + s.d.Issuer + ", as a JSON string")
	case c.Expiry == nil || !now.Before(c.Expiry.Time()):
		return consent.Partner{}, badClient("the client assertion has expired") // RFC 7523 §3 item 4
	case c.Expiry.Time().Sub(now) > maxAssertionLife:
		return consent.Partner{}, badClient("the client assertion lives too long; keep exp within 10 minutes")
	case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(proofWindow)):
		return consent.Partner{}, badClient("the client assertion is not valid yet") // item 5
	case c.IssuedAt != nil && c.IssuedAt.Time().After(now.Add(proofWindow)):
		return consent.Partner{}, badClient("the client assertion was issued in the future") // item 6
	case c.ID == "" || len(c.ID) > 256:
		return consent.Partner{}, badClient("the client assertion needs a jti") // item 7
	}
	fresh, err := s.store.UseJTI(r.Context(), "assertion:"+string(p.ID)+":"+c.ID, c.Expiry.Time(), now)
	if err != nil {
		return consent.Partner{}, s.internal(r, err)
	}
	if !fresh {
		return consent.Partner{}, badClient("the client assertion was already used") // RFC 7523 §3 item 7
	}
	return p, nil
}

// verifyWith tries the keys named by the header's kid (all keys when it has
// none) and reports whether try succeeded with one. A key registered for
// another use or another algorithm is never tried: RFC 7517 §4.2 ("use":
// only "sig" signs) and §4.4 ("alg":
// the one algorithm the key may be used with).
func verifyWith(set jose.JSONWebKeySet, h jose.Header, try func(key any) bool) bool {
	for _, k := range set.Keys {
		switch {
		case h.KeyID != "" && k.KeyID != h.KeyID:
			continue
		case k.Use != "" && k.Use != "sig":
			continue
		case k.Algorithm != "" && k.Algorithm != h.Algorithm:
			continue
		}
		if try(k.Key) {
			return true
		}
	}
	return false
}

// partnerKeys returns the partner's public keys: inline, parsed once per
// version of the partner record, or fetched from its allowed jwks_uri and
// kept for five minutes.
func (s *Server) partnerKeys(ctx context.Context, p consent.Partner) (jose.JSONWebKeySet, error) {
	s.keysMu.Lock()
	k, ok := s.keys[p.ID]
	s.keysMu.Unlock()
	now := s.now()
	if ok && k.updated.Equal(p.Updated) && (len(p.JWKS) > 0 || now.Sub(k.fetched) < jwksURITTL) {
		return k.set, nil
	}
	var set jose.JSONWebKeySet
	var err error
	switch {
	case len(p.JWKS) > 0:
		set, err = consent.ParseJWKS(p.JWKS)
	case p.JWKSURI != "" && p.JWKSURIAllowed:
		set, err = s.fetchJWKS(ctx, p.JWKSURI)
	default:
		err = errors.New("no keys registered")
	}
	if err != nil {
		return set, err
	}
	s.keysMu.Lock()
	s.keys[p.ID] = partnerKeys{updated: p.Updated, fetched: now, set: set}
	s.keysMu.Unlock()
	return set, nil
}

func (s *Server) fetchJWKS(ctx context.Context, uri string) (jose.JSONWebKeySet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	res, err := s.d.HTTPClient.Do(req)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return jose.JSONWebKeySet{}, fmt.Errorf("jwks_uri answered %s", res.Status)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return consent.ParseJWKS(body)
}
