package oauth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/oauth"
)

// outcome is what a bad input got: the HTTP status, the OAuth error code,
// and whether any token came back.
type outcome struct {
	status int
	code   string
	token  bool
}

// tokenForm posts to the token endpoint with a fresh client assertion and
// a proof from key (nonce handled by the transport).
func (b *bank) tokenForm(c *client, key any, form url.Values) outcome {
	b.t.Helper()
	tr := &transport{c: c, dpop: c.dpop}
	if k, ok := key.(*struct{}); ok && k == nil {
		tr.noDPoP = true
	}
	res, err := (&http.Client{Transport: tr}).PostForm(b.issuer+oauth.PathToken, form)
	if err != nil {
		b.t.Fatal(err)
	}
	body := read(b.t, res)
	return outcome{status: res.StatusCode, code: errorCode(body), token: strings.Contains(body, "access_token")}
}

func errorCode(body string) string {
	_, after, ok := strings.Cut(body, `"error":"`)
	if !ok {
		return ""
	}
	code, _, _ := strings.Cut(after, `"`)
	return code
}

func apiOutcome(status int, body string) outcome {
	return outcome{status: status, code: errorCode(body), token: status == http.StatusOK}
}

// TestBadInputs gives each bad input its own bank and checks it gets the
// standard OAuth error and no token (or no data).
func TestBadInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, b *bank) outcome
		want outcome
	}{
		{"PARWithoutPKCE", func(t *testing.T, b *bank) outcome {
			status, out := b.client.par(oauth2.GenerateVerifier(), url.Values{"code_challenge": {""}, "code_challenge_method": {""}})
			return outcome{status, fmt.Sprint(out["error"]), out["request_uri"] != nil}
		}, outcome{400, "invalid_request", false}},
		{"PARWithPlainPKCE", func(t *testing.T, b *bank) outcome {
			v := oauth2.GenerateVerifier()
			status, out := b.client.par(v, url.Values{"code_challenge": {v}, "code_challenge_method": {"plain"}})
			return outcome{status, fmt.Sprint(out["error"]), out["request_uri"] != nil}
		}, outcome{400, "invalid_request", false}},
		{"PARRedirectURIOffByOneCharacter", func(t *testing.T, b *bank) outcome {
			status, out := b.client.par(oauth2.GenerateVerifier(), url.Values{"redirect_uri": {b.client.redirct + "x"}})
			return outcome{status, fmt.Sprint(out["error"]), out["request_uri"] != nil}
		}, outcome{400, "invalid_request", false}},
		{"PARAskingForAnUndeclaredCluster", func(t *testing.T, b *bank) outcome {
			d := strings.Replace(details, `"BALANCES"`, `"TRANSFERS"`, 1)
			status, out := b.client.par(oauth2.GenerateVerifier(), url.Values{"authorization_details": {d}})
			return outcome{status, fmt.Sprint(out["error"]), out["request_uri"] != nil}
		}, outcome{400, "invalid_authorization_details", false}},
		{"TokenRedirectURIOffByOneCharacter", func(t *testing.T, b *bank) outcome {
			v := oauth2.GenerateVerifier()
			code := b.authorize(b.client, v)
			return b.tokenForm(b.client, b.client.dpop, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"code_verifier": {v}, "redirect_uri": {strings.TrimSuffix(b.client.redirct, "k") + "K"}})
		}, outcome{400, "invalid_grant", false}},
		{"TokenWithoutCodeVerifier", func(t *testing.T, b *bank) outcome {
			code := b.authorize(b.client, oauth2.GenerateVerifier())
			return b.tokenForm(b.client, b.client.dpop, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {b.client.redirct}})
		}, outcome{400, "invalid_grant", false}},
		{"TokenWithWrongCodeVerifier", func(t *testing.T, b *bank) outcome {
			code := b.authorize(b.client, oauth2.GenerateVerifier())
			return b.tokenForm(b.client, b.client.dpop, url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"code_verifier": {oauth2.GenerateVerifier()}, "redirect_uri": {b.client.redirct}})
		}, outcome{400, "invalid_grant", false}},
		{"ReusedCodeFailsAndRevokesTheConsent", func(t *testing.T, b *bank) outcome {
			v := oauth2.GenerateVerifier()
			code := b.authorize(b.client, v)
			tok, err := b.client.config().Exchange(b.client.ctx(), code, oauth2.VerifierOption(v))
			if err != nil {
				t.Fatal(err)
			}
			_, err = b.client.config().Exchange(b.client.ctx(), code, oauth2.VerifierOption(v))
			b.clock.Add(1100 * time.Millisecond)
			if status, _ := b.call(b.client, b.client.dpop, tok.AccessToken); status != http.StatusUnauthorized {
				t.Errorf("the first token still works after the code was replayed: %d", status)
			}
			return outcome{400, oauthCode(err), false}
		}, outcome{400, "invalid_grant", false}},
		{"CodeOlderThan60Seconds", func(t *testing.T, b *bank) outcome {
			v := oauth2.GenerateVerifier()
			code := b.authorize(b.client, v)
			b.clock.Add(61 * time.Second)
			_, err := b.client.config().Exchange(b.client.ctx(), code, oauth2.VerifierOption(v))
			return outcome{400, oauthCode(err), false}
		}, outcome{400, "invalid_grant", false}},
		{"ReusedDPoPProofAtTokenEndpoint", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			c := b.client
			proof := c.proof(c.dpop, "POST", b.issuer+oauth.PathToken, "")
			form := func() url.Values {
				return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
					"client_assertion_type": {oauth.AssertionType}, "client_assertion": {c.assertion(b.issuer, time.Minute)}}
			}
			if status, out, _ := b.postRaw(oauth.PathToken, form(), proof); status != 200 {
				t.Fatalf("first use of the proof: %d %v", status, out)
			}
			status, out, _ := b.postRaw(oauth.PathToken, form(), proof)
			return outcome{status, fmt.Sprint(out["error"]), out["access_token"] != nil}
		}, outcome{400, "invalid_dpop_proof", false}},
		{"ReusedDPoPProofAtTheAPI", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			c := b.client
			proof := c.proof(c.dpop, "GET", b.issuer+"/api/balances", tok.AccessToken)
			var status int
			var body string
			for range 2 {
				req, _ := http.NewRequest("GET", b.issuer+"/api/balances", nil)
				req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
				req.Header.Set("DPoP", proof)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				status, body = res.StatusCode, read(t, res)
			}
			return apiOutcome(status, body)
		}, outcome{401, "invalid_dpop_proof", false}},
		{"DPoPKeyDiffersFromTheTokensAtTheAPI", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			return apiOutcome(b.call(b.client, newKey(t), tok.AccessToken))
		}, outcome{401, "invalid_token", false}},
		{"DPoPKeyDiffersFromTheRefreshTokens", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			tr := &transport{c: b.client, dpop: newKey(t)}
			res, err := (&http.Client{Transport: tr}).PostForm(b.issuer+oauth.PathToken, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
			if err != nil {
				t.Fatal(err)
			}
			body := read(t, res)
			return outcome{res.StatusCode, errorCode(body), strings.Contains(body, "access_token")}
		}, outcome{400, "invalid_grant", false}},
		{"TokenPresentedAsBearer", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			req, _ := http.NewRequest("GET", b.issuer+"/api/balances", nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return apiOutcome(res.StatusCode, read(t, res))
		}, outcome{401, "invalid_token", false}},
		{"NoDPoPProofAtTokenEndpoint", func(t *testing.T, b *bank) outcome {
			v := oauth2.GenerateVerifier()
			code := b.authorize(b.client, v)
			return b.tokenForm(b.client, (*struct{})(nil), url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"code_verifier": {v}, "redirect_uri": {b.client.redirct}})
		}, outcome{400, "invalid_dpop_proof", false}},
		{"ExpiredAccessToken", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			b.clock.Add(oauth.MaxAccessTTL + time.Second)
			return apiOutcome(b.call(b.client, b.client.dpop, tok.AccessToken))
		}, outcome{401, "invalid_token", false}},
		{"ExpiredAccessTokenAfterUse", func(t *testing.T, b *bank) outcome {
			// The verifier caches checked tokens; expiry is still checked on every call.
			tok := b.link(b.client)
			if st, body := b.call(b.client, b.client.dpop, tok.AccessToken); st != 200 {
				t.Fatalf("first call: %d %s", st, body)
			}
			b.clock.Add(oauth.MaxAccessTTL + time.Second)
			return apiOutcome(b.call(b.client, b.client.dpop, tok.AccessToken))
		}, outcome{401, "invalid_token", false}},
		{"TamperedAccessTokenAfterUse", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			if st, body := b.call(b.client, b.client.dpop, tok.AccessToken); st != 200 {
				t.Fatalf("first call: %d %s", st, body)
			}
			parts := strings.Split(tok.AccessToken, ".")
			parts[1] = strings.Replace(parts[1], parts[1][10:11], flip(parts[1][10:11]), 1)
			return apiOutcome(b.call(b.client, b.client.dpop, strings.Join(parts, ".")))
		}, outcome{401, "invalid_token", false}},
		{"TamperedAccessToken", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			parts := strings.Split(tok.AccessToken, ".")
			parts[1] = strings.Replace(parts[1], parts[1][10:11], flip(parts[1][10:11]), 1)
			return apiOutcome(b.call(b.client, b.client.dpop, strings.Join(parts, ".")))
		}, outcome{401, "invalid_token", false}},
		{"ExpiredClientAssertion", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			c := b.client
			a := c.assertion(b.issuer, time.Second)
			b.clock.Add(2 * time.Second)
			return b.tokenForm(c, c.dpop, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
				"client_assertion_type": {oauth.AssertionType}, "client_assertion": {a}})
		}, outcome{401, "invalid_client", false}},
		{"TamperedClientAssertion", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			c := b.client
			a := strings.Split(c.assertion(b.issuer, time.Minute), ".")
			a[2] = flip(a[2][:1]) + a[2][1:]
			return b.tokenForm(c, c.dpop, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
				"client_assertion_type": {oauth.AssertionType}, "client_assertion": {strings.Join(a, ".")}})
		}, outcome{401, "invalid_client", false}},
		{"ClientAssertionWithWrongAudience", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			c := b.client
			return b.tokenForm(c, c.dpop, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
				"client_assertion_type": {oauth.AssertionType}, "client_assertion": {c.assertion(b.issuer+oauth.PathToken, time.Minute)}})
		}, outcome{401, "invalid_client", false}},
		{"ReusedClientAssertion", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			c := b.client
			a := c.assertion(b.issuer, time.Minute)
			form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
				"client_assertion_type": {oauth.AssertionType}, "client_assertion": {a}}
			if o := b.tokenForm(c, c.dpop, form); !o.token {
				t.Fatalf("first use of the assertion: %+v", o)
			}
			return b.tokenForm(c, c.dpop, form)
		}, outcome{401, "invalid_client", false}},
		{"RevokedConsent", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			grant := consent.GrantID(tok.Extra("grant_id").(string))
			if _, err := b.consents.Revoke(context.Background(), grant, "staff:1", "fraud investigation"); err != nil {
				t.Fatal(err)
			}
			b.clock.Add(1100 * time.Millisecond)
			if status, _ := b.call(b.client, b.client.dpop, tok.AccessToken); status != http.StatusUnauthorized {
				t.Errorf("API call on a revoked consent: %d", status)
			}
			old := *tok
			old.Expiry = time.Now().Add(-time.Hour)
			_, err := b.client.config().TokenSource(b.client.ctx(), &old).Token()
			return outcome{400, oauthCode(err), false}
		}, outcome{400, "invalid_grant", false}},
		{"SuspendedPartner", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			if err := b.consents.SuspendPartner(context.Background(), partner, "keys reported leaked", "staff:1"); err != nil {
				t.Fatal(err)
			}
			b.clock.Add(1100 * time.Millisecond)
			if status, _ := b.call(b.client, b.client.dpop, tok.AccessToken); status != http.StatusUnauthorized {
				t.Errorf("API call by a suspended partner: %d", status)
			}
			old := *tok
			old.Expiry = time.Now().Add(-time.Hour)
			_, err := b.client.config().TokenSource(b.client.ctx(), &old).Token()
			return outcome{401, oauthCode(err), false}
		}, outcome{401, "invalid_client", false}},
		{"RefreshAskingForMoreScope", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			return b.tokenForm(b.client, b.client.dpop, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
				"scope": {"BALANCES TRANSACTIONS"}})
		}, outcome{400, "invalid_scope", false}},
		{"RefreshAskingForMoreDetails", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client)
			d := strings.Replace(details, `"BALANCES"`, `"BALANCES","TRANSACTIONS"`, 1)
			return b.tokenForm(b.client, b.client.dpop, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
				"authorization_details": {d}})
		}, outcome{400, "invalid_authorization_details", false}},
		{"ExpiredConsentStopsOnTheMinute", func(t *testing.T, b *bank) outcome {
			tok := b.link(b.client) // 30 days
			b.clock.Add(30*24*time.Hour + time.Second)
			old := *tok
			old.Expiry = time.Now().Add(-time.Hour)
			_, err := b.client.config().TokenSource(b.client.ctx(), &old).Token()
			return outcome{400, oauthCode(err), false}
		}, outcome{400, "invalid_grant", false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBank(t)
			got := tt.run(t, b)
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// flip changes one base64url character into another.
func flip(s string) string {
	if s == "A" {
		return "B"
	}
	return "A"
}
