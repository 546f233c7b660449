package oauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/oauth"
)

// TestWholeFlow drives PAR -> login -> consent -> code -> token -> API call
// -> refresh -> revoke -> the call fails, over loopback HTTP with the
// x/oauth2 client and DPoP proofs signed with go-jose.
func TestWholeFlow(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	c := b.client
	tok := b.link(c)

	if tok.Type() != "DPoP" || tok.RefreshToken == "" {
		t.Fatalf("token type %q, refresh token present %v; want DPoP and one", tok.Type(), tok.RefreshToken != "")
	}
	if ttl := time.Until(tok.Expiry); ttl > oauth.MaxAccessTTL+time.Second {
		t.Errorf("access token lives %s, more than 900 s", ttl)
	}
	grantID, _ := tok.Extra("grant_id").(string)
	g, err := b.consents.Grant(context.Background(), consent.GrantID(grantID))
	if err != nil {
		t.Fatalf("grant_id %q names no consent: %v", grantID, err)
	}
	if g.DurationDays != 30 || !g.Covers(b.accounts[0].ID, consent.Balances) || g.Covers(b.accounts[1].ID, consent.Balances) {
		t.Errorf("consent = %+v; want 30 days over the first account only", g)
	}
	details, _ := json.Marshal(tok.Extra("authorization_details"))
	if !strings.Contains(string(details), `"dataClusters":["ACCOUNT_BASIC","BALANCES"]`) || strings.Contains(string(details), `"resourceId":""`) {
		t.Errorf("authorization_details in the token response = %s", details)
	}

	status, body := b.call(c, c.dpop, tok.AccessToken)
	if status != http.StatusOK || !strings.Contains(body, grantID) || !strings.Contains(body, `"balances":true`) {
		t.Fatalf("API call: %d %s", status, body)
	}

	// Refresh: same refresh token (not rotated), new access token.
	old := *tok
	old.Expiry = time.Now().Add(-time.Hour)
	fresh, err := c.config().TokenSource(c.ctx(), &old).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken != tok.RefreshToken {
		t.Errorf("refresh: new access token %v, same refresh token %v; want true, true", fresh.AccessToken != tok.AccessToken, fresh.RefreshToken == tok.RefreshToken)
	}
	if status, body := b.call(c, c.dpop, fresh.AccessToken); status != http.StatusOK {
		t.Fatalf("API call after refresh: %d %s", status, body)
	}

	// Introspection sees the token as active.
	res, err := c.http().PostForm(b.issuer+oauth.PathIntrospect, url.Values{"token": {fresh.AccessToken}})
	if err != nil {
		t.Fatal(err)
	}
	var intro map[string]any
	json.NewDecoder(res.Body).Decode(&intro)
	res.Body.Close()
	if intro["active"] != true || intro["grant_id"] != grantID || intro["client_id"] != partner {
		t.Errorf("introspection = %v", intro)
	}

	// The partner revokes its refresh token (RFC 7009): the consent ends.
	res, err = c.http().PostForm(b.issuer+oauth.PathRevoke, url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("revocation: status %d", res.StatusCode)
	}
	b.clock.Add(1100 * time.Millisecond) // past the verifier's one-second cache
	if status, body := b.call(c, c.dpop, fresh.AccessToken); status != http.StatusUnauthorized || !strings.Contains(body, "invalid_token") {
		t.Errorf("API call after revocation: %d %s; want 401 invalid_token", status, body)
	}
	if _, err := c.config().TokenSource(c.ctx(), &old).Token(); oauthCode(err) != "invalid_grant" {
		t.Errorf("refresh after revocation: %v; want invalid_grant", err)
	}
	if g, _ := b.consents.Grant(context.Background(), consent.GrantID(grantID)); g.Status != consent.Revoked || g.RevokedBy != "partner" {
		t.Errorf("consent after revocation: %s by %q", g.Status, g.RevokedBy)
	}
}

// oauthCode is the error code of an x/oauth2 failure.
func oauthCode(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	if err == nil {
		return ""
	}
	return "other: " + err.Error()
}

func TestMetadataAndJWKS(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	for _, path := range []string{"/.well-known/oauth-authorization-server"} {
		res, err := http.Get(b.issuer + path)
		if err != nil {
			t.Fatal(err)
		}
		var md map[string]any
		json.NewDecoder(res.Body).Decode(&md)
		res.Body.Close()
		if md["issuer"] != b.issuer || md["require_pushed_authorization_requests"] != true ||
			md["authorization_response_iss_parameter_supported"] != true || md["pushed_authorization_request_endpoint"] != b.issuer+oauth.PathPAR {
			t.Errorf("%s = %v", path, md)
		}
		// No ID tokens are issued: nothing in the metadata may suggest them.
		for _, k := range []string{"id_token_signing_alg_values_supported", "subject_types_supported", "userinfo_endpoint", "claims_supported"} {
			if _, ok := md[k]; ok {
				t.Errorf("%s advertises %s, but no ID tokens are issued", path, k)
			}
		}
	}
	// Nor is an OpenID Connect discovery document served.
	res, err := http.Get(b.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	if read(t, res); res.StatusCode != http.StatusNotFound {
		t.Errorf("/.well-known/openid-configuration: %d, want 404", res.StatusCode)
	}
	res, err = http.Get(b.issuer + oauth.PathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	body := read(t, res)
	if !strings.Contains(body, `"kty":"EC"`) || strings.Contains(body, `"d":`) {
		t.Errorf("JWKS = %s; want one public EC key", body)
	}
}

func TestDeclineRedirectsWithAccessDenied(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	c := b.client
	status, out := c.par(oauth2.GenerateVerifier(), nil)
	if status != http.StatusCreated {
		t.Fatalf("PAR: %d %v", status, out)
	}
	br, page := b.consentScreen(c, out["request_uri"].(string))
	for _, want := range []string{"Budget App Ltd", "show balances in chat", "Balance 1,234.50 USD", "Everyday checking", `value="90"`} {
		if !strings.Contains(page, want) {
			t.Errorf("consent screen lacks %q", want)
		}
	}
	back := b.decide(br, page, url.Values{"decision": {"deny"}})
	if q := back.Query(); q.Get("error") != "access_denied" || q.Get("state") != "st-123" || q.Get("iss") != b.issuer || q.Get("code") != "" {
		t.Errorf("decline redirect = %s", back)
	}
	// The request was answered: it cannot be decided again.
	res, err := br.Get(b.issuer + oauth.PathAuthorize + "?" + url.Values{"client_id": {c.id}, "request_uri": {out["request_uri"].(string)}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if read(t, res); res.StatusCode != http.StatusBadRequest {
		t.Errorf("reusing an answered request_uri: status %d, want 400", res.StatusCode)
	}
}

func TestConnectedAppsRevokeAndRenew(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	c := b.client
	tok := b.link(c)
	if status, _ := b.call(c, c.dpop, tok.AccessToken); status != http.StatusOK {
		t.Fatalf("API call: %d", status)
	}
	br, _ := b.consentScreen(c, func() string { _, o := c.par(oauth2.GenerateVerifier(), nil); return o["request_uri"].(string) }())
	res, err := br.Get(b.issuer + "/connected")
	if err != nil {
		t.Fatal(err)
	}
	page := read(t, res)
	grantID := tok.Extra("grant_id").(string)
	for _, want := range []string{"Budget App Ltd", grantID, "Account names, Balances", "Everyday checking"} {
		if !strings.Contains(page, want) {
			t.Errorf("connected apps page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, `data-field="last-used">Never`) {
		t.Errorf("last used should be recorded after an API call")
	}
	csrf := field(t, csrfRe, page)

	// Renew for 200 days.
	res, err = br.PostForm(b.issuer+"/connected/"+grantID+"/renew", url.Values{"csrf": {csrf}, "days": {"200"}})
	if err != nil {
		t.Fatal(err)
	}
	read(t, res)
	g, _ := b.consents.Grant(context.Background(), consent.GrantID(grantID))
	if g.DurationDays != 200 || g.Expires.Sub(b.clock.Now()) < 199*24*time.Hour {
		t.Errorf("after renewal: %d days, ends %v", g.DurationDays, g.Expires)
	}
	// Revoking without the CSRF token is refused.
	res, err = br.PostForm(b.issuer+"/connected/"+grantID+"/revoke", url.Values{"csrf": {"forged"}})
	if err != nil {
		t.Fatal(err)
	}
	if read(t, res); res.StatusCode != http.StatusForbidden {
		t.Errorf("revoke with a forged CSRF token: %d, want 403", res.StatusCode)
	}
	res, err = br.PostForm(b.issuer+"/connected/"+grantID+"/revoke", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	if body := read(t, res); !strings.Contains(body, "Access revoked") {
		t.Errorf("after revoke:\n%s", body)
	}
	b.clock.Add(1100 * time.Millisecond)
	if status, _ := b.call(c, c.dpop, tok.AccessToken); status != http.StatusUnauthorized {
		t.Errorf("API call after the customer revoked: %d, want 401", status)
	}
}
