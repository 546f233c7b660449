package oauth_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/oauth"
)

// tokenJSON posts form to the token endpoint as c (fresh assertion, proof,
// nonce) and returns the status and the decoded answer.
func (b *bank) tokenJSON(c *client, form url.Values) (int, map[string]any) {
	b.t.Helper()
	res, err := c.http().PostForm(b.issuer+oauth.PathToken, form)
	if err != nil {
		b.t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(read(b.t, res)), &out); err != nil {
		b.t.Fatal(err)
	}
	return res.StatusCode, out
}

// echoed reads the one fdx_v1.0 entry of a token response's
// authorization_details.
func echoed(t *testing.T, out map[string]any) oauth.ConsentRequest {
	t.Helper()
	raw, _ := json.Marshal(out["authorization_details"])
	var ds []oauth.AuthorizationDetail
	if err := json.Unmarshal(raw, &ds); err != nil || len(ds) != 1 {
		t.Fatalf("authorization_details = %s (%v)", raw, err)
	}
	return ds[0].ConsentRequest
}

// TestRefreshNarrowing: a refresh asking, through authorization_details,
// for less than the consent gets a token carrying exactly that, and the
// response says so; never more than the consent (RFC 6749 §6, RFC 9396 §7).
func TestRefreshNarrowing(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	c := b.client
	tok := b.link(c) // ACCOUNT_BASIC and BALANCES, 30 days, look-back 365
	narrow := func(cr string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
			"authorization_details": {`[{"type":"fdx_v1.0","consentRequest":` + cr + `}]`}}
	}

	t.Run("OnlyBalancesWithoutDurationPeriod", func(t *testing.T) {
		// durationPeriod left out: the consent's 30 days, not a new
		// request's default of 90, which the consent would refuse.
		status, out := b.tokenJSON(c, narrow(`{"resources":[{"resourceType":"ACCOUNT","dataClusters":["BALANCES"]}]}`))
		if status != 200 {
			t.Fatalf("narrowing refresh: %d %v", status, out)
		}
		if out["scope"] != "BALANCES" {
			t.Errorf("scope = %v, want BALANCES", out["scope"])
		}
		cr := echoed(t, out)
		if cr.DurationPeriod != 30 || cr.LookbackPeriod != 365 || len(cr.Resources) != 1 ||
			len(cr.Resources[0].DataClusters) != 1 || cr.Resources[0].DataClusters[0] != consent.Balances {
			t.Errorf("echoed %+v; want 30 days, 365 look-back, one account with BALANCES only", cr)
		}
		// The token itself carries BALANCES only: introspection agrees.
		res, err := c.http().PostForm(b.issuer+oauth.PathIntrospect, url.Values{"token": {out["access_token"].(string)}})
		if err != nil {
			t.Fatal(err)
		}
		var in map[string]any
		json.Unmarshal([]byte(read(t, res)), &in)
		if in["scope"] != "BALANCES" || echoed(t, in).Resources[0].DataClusters[0] != consent.Balances {
			t.Errorf("introspection = %v", in)
		}
	})
	t.Run("OnlyAccountBasicHidesBalances", func(t *testing.T) {
		status, out := b.tokenJSON(c, narrow(`{"resources":[{"resourceType":"ACCOUNT","dataClusters":["ACCOUNT_BASIC"]}]}`))
		if status != 200 {
			t.Fatalf("narrowing refresh: %d %v", status, out)
		}
		st, body := b.call(c, c.dpop, out["access_token"].(string))
		if st != 200 || !strings.Contains(body, `"balances":false`) {
			t.Errorf("API with an ACCOUNT_BASIC-only token: %d %s; want BALANCES refused", st, body)
		}
	})
	t.Run("ShorterLookbackIsCarried", func(t *testing.T) {
		status, out := b.tokenJSON(c, narrow(`{"lookbackPeriod":30,"resources":[{"resourceType":"ACCOUNT","dataClusters":["BALANCES"]}]}`))
		if status != 200 || echoed(t, out).LookbackPeriod != 30 {
			t.Errorf("look-back narrowing: %d %v", status, out)
		}
	})
	t.Run("ScopeAndDetailsIntersect", func(t *testing.T) {
		f := narrow(`{"resources":[{"resourceType":"ACCOUNT","dataClusters":["ACCOUNT_BASIC","BALANCES"]}]}`)
		f.Set("scope", "BALANCES")
		status, out := b.tokenJSON(c, f)
		if status != 200 || out["scope"] != "BALANCES" || len(echoed(t, out).Resources[0].DataClusters) != 1 {
			t.Errorf("scope with details: %d %v", status, out)
		}
	})
	for name, cr := range map[string]string{
		"LongerDuration":  `{"durationPeriod":90,"resources":[{"resourceType":"ACCOUNT","dataClusters":["BALANCES"]}]}`,
		"LongerLookback":  `{"lookbackPeriod":366,"resources":[{"resourceType":"ACCOUNT","dataClusters":["BALANCES"]}]}`,
		"ClusterNotGiven": `{"resources":[{"resourceType":"ACCOUNT","dataClusters":["TRANSACTIONS"]}]}`,
	} {
		t.Run("Refuses"+name, func(t *testing.T) {
			status, out := b.tokenJSON(c, narrow(cr))
			if status != 400 || out["error"] != "invalid_authorization_details" || out["access_token"] != nil {
				t.Errorf("%s: %d %v; want 400 invalid_authorization_details", name, status, out)
			}
		})
	}
	t.Run("FullRefreshEchoesTheWholeConsent", func(t *testing.T) {
		status, out := b.tokenJSON(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
		if status != 200 || out["scope"] != "ACCOUNT_BASIC BALANCES" || len(echoed(t, out).Resources[0].DataClusters) != 2 {
			t.Errorf("plain refresh: %d %v", status, out)
		}
	})
}

// TestStolenCodeSpendsNothing: a code presented by another (authenticated)
// client is refused without being spent, so the rightful client still
// exchanges it and the customer's consent is not revoked as a replay
// (RFC 6749 §4.1.3, §10.5).
func TestStolenCodeSpendsNothing(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	thief := b.newClient("thief-app")
	v := oauth2.GenerateVerifier()
	code := b.authorize(b.client, v)
	got := b.tokenForm(thief, thief.dpop, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"code_verifier": {v}, "redirect_uri": {b.client.redirct}})
	if got != (outcome{400, "invalid_grant", false}) {
		t.Errorf("thief's exchange: %+v, want 400 invalid_grant and no token", got)
	}
	tok, err := b.client.config().Exchange(b.client.ctx(), code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("rightful exchange after the theft attempt: %v", err)
	}
	if st, body := b.call(b.client, b.client.dpop, tok.AccessToken); st != 200 {
		t.Errorf("the customer's consent stopped working: %d %s", st, body)
	}
}

// TestClientAssertionAudienceMustBeAString: aud as a one-element array is
// refused (draft-ietf-oauth-rfc7523bis §4; FAPI 2.0 §5.3.2.1).
func TestClientAssertionAudienceMustBeAString(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	c := b.client
	tok := b.link(c)
	assertion := func(aud any) string {
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: c.key, KeyID: "k1"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		now := b.clock.Now()
		s, err := jwt.Signed(sig).Claims(map[string]any{"iss": c.id, "sub": c.id, "aud": aud, "jti": rand.Text(),
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	form := func(a string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
			"client_assertion_type": {oauth.AssertionType}, "client_assertion": {a}}
	}
	if got := b.tokenForm(c, c.dpop, form(assertion([]string{b.issuer}))); got != (outcome{401, "invalid_client", false}) {
		t.Errorf("aud as an array: %+v, want 401 invalid_client", got)
	}
	if got := b.tokenForm(c, c.dpop, form(assertion(b.issuer))); !got.token {
		t.Errorf("aud as a string: %+v, want a token", got)
	}
}

// TestBareChallengeWithoutCredentials: RFC 6750 §3.1, a request with no
// credentials gets a challenge without an error code.
func TestBareChallengeWithoutCredentials(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	for name, authz := range map[string]string{"None": "", "UnknownScheme": "Basic dXNlcjpwYXNz"} {
		req, _ := http.NewRequest("GET", b.issuer+"/api/balances", nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := read(t, res)
		ch := res.Header.Get("WWW-Authenticate")
		if res.StatusCode != 401 || !strings.HasPrefix(ch, "DPoP ") || strings.Contains(ch, "error") || strings.Contains(body, "error") {
			t.Errorf("%s: %d, WWW-Authenticate %q, body %q; want 401 and a bare DPoP challenge", name, res.StatusCode, ch, body)
		}
	}
	// A token that fails still gets its error code.
	req, _ := http.NewRequest("GET", b.issuer+"/api/balances", nil)
	req.Header.Set("Authorization", "DPoP not-a-token")
	req.Header.Set("DPoP", "x")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	read(t, res)
	if ch := res.Header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="invalid_token"`) {
		t.Errorf("bad token: WWW-Authenticate %q, want error=\"invalid_token\"", ch)
	}
}

// TestHTUNormalised: RFC 9449 §4.3 step 9 with RFC 3986 §6.2.2-6.2.3: a
// proof's htu differing only in the case of scheme or host, an explicit
// default port, percent-encoding case or dot segments matches; another
// port, host or path does not.
func TestHTUNormalised(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	c := b.client
	tok := b.link(c)
	v := b.as.Verifier(oauth.VerifierOptions{BaseURL: "https://bank.example"})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := v.Verify(r); err != nil {
			v.WriteChallenge(w, err)
			return
		}
		w.Write([]byte("ok"))
	}))
	t.Cleanup(api.Close)
	call := func(htu string) int {
		req, _ := http.NewRequest("GET", api.URL+"/api/balances", nil)
		req.Header.Set("Authorization", "DPoP "+tok.AccessToken)
		req.Header.Set("DPoP", c.proof(c.dpop, "GET", htu, tok.AccessToken))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		read(t, res)
		return res.StatusCode
	}
	for htu, want := range map[string]int{
		"https://bank.example/api/balances":             200,
		"HTTPS://Bank.EXAMPLE/api/balances":             200,
		"https://bank.example:443/api/balances":         200,
		"https://bank.example/api/%62alances":           200,
		"https://bank.example/api/x/../balances":        200,
		"https://bank.example/api/balances?x=1#f":       200,
		"https://bank.example:8443/api/balances":        401,
		"http://bank.example/api/balances":              401,
		"https://bank.example.evil/api/balances":        401,
		"https://bank.example/api/Balances":             401,
		"https://user@bank.example/api/balances":        401,
		"https://bank.example/api/balances/../accounts": 401,
	} {
		if got := call(htu); got != want {
			t.Errorf("htu %s: %d, want %d", htu, got, want)
		}
	}
	// At the token endpoint too: the issuer's host in upper case.
	u := strings.Replace(b.issuer, "http://", "HTTP://", 1) + oauth.PathToken
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
		"client_assertion_type": {oauth.AssertionType}, "client_assertion": {c.assertion(b.issuer, time.Minute)}}
	status, out, h := b.postRaw(oauth.PathToken, form, c.proof(c.dpop, "POST", u, ""))
	if status == 400 && out["error"] == "use_dpop_nonce" {
		c.nonce = h.Get("DPoP-Nonce")
		form.Set("client_assertion", c.assertion(b.issuer, time.Minute))
		status, out, _ = b.postRaw(oauth.PathToken, form, c.proof(c.dpop, "POST", u, ""))
	}
	if status != 200 {
		t.Errorf("token endpoint with htu %s: %d %v", u, status, out)
	}
}

// TestRegisteredKeyUseAndAlg: a key registered for one algorithm never
// verifies another's signature (RFC 7517 §4.4), and a key registered for
// encryption is refused at registration (§4.2).
func TestRegisteredKeyUseAndAlg(t *testing.T) {
	t.Parallel()
	b := newBank(t)
	register := func(id string, jwk jose.JSONWebKey) (*client, error) {
		c := &client{b: b, id: id, key: newKey(t), dpop: newKey(t), redirct: "http://127.0.0.1:9/" + id + "/callback"}
		jwk.Key, jwk.KeyID = &c.key.PublicKey, "k1"
		jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}})
		_, err := b.consents.RegisterPartner(context.Background(), consent.Partner{
			ID: consent.PartnerID(id), LegalName: "Key Test Ltd", LEI: "5493001KJTIIGC8Y1R12", Homepage: "https://keys.example",
			SecurityContact: "security@keys.example", RedirectURIs: []string{c.redirct}, JWKS: jwks,
			Purposes:    map[consent.Cluster]string{consent.Balances: "show balances"},
			Attestation: consent.Attestation{NoSecondaryUse: true, Signatory: "Jo Doe, CEO"},
		}, "test")
		return c, err
	}
	if _, err := register("enc-key", jose.JSONWebKey{Use: "enc"}); err == nil {
		t.Errorf("a key with use enc was registered")
	}
	c, err := register("eddsa-labelled", jose.JSONWebKey{Algorithm: string(jose.EdDSA), Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	// The assertion is signed ES256 with the registered EC key, whose alg
	// says EdDSA: the key may not be used for it.
	status, out := c.par(oauth2.GenerateVerifier(), url.Values{"authorization_details": {strings.Replace(details, `"ACCOUNT_BASIC",`, "", 1)}})
	if status != 401 || out["error"] != "invalid_client" {
		t.Errorf("assertion verified by a key registered for another alg: %d %v, want 401 invalid_client", status, out)
	}
	ok, err := register("es256-labelled", jose.JSONWebKey{Algorithm: string(jose.ES256), Use: "sig"})
	if err != nil {
		t.Fatal(err)
	}
	if status, out := ok.par(oauth2.GenerateVerifier(), url.Values{"authorization_details": {strings.Replace(details, `"ACCOUNT_BASIC",`, "", 1)}}); status != 201 {
		t.Errorf("assertion with a matching key: %d %v", status, out)
	}
}
