// Package dataapitest is a partner of the data API for tests and
// benchmarks: it registers itself, links customers through the real
// authorization server over HTTP (PAR, the customer's decision, the token
// endpoint with private_key_jwt and DPoP) and calls the API with DPoP
// proofs. It must never be used by production code.
package dataapitest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/oauth"
)

// Partner is a registered partner with its client and DPoP keys.
type Partner struct {
	ID       string
	Issuer   string // the bank's base URL
	Redirect string
	Now      func() time.Time
	HTTP     *http.Client

	key   *ecdsa.PrivateKey
	dpop  *ecdsa.PrivateKey
	mu    sync.Mutex
	nonce string
	// signer caches the DPoP signer (its key never changes).
	signer jose.Signer
	// last is the last token response, for Token.
	last map[string]any
}

// Token returns the last token response the partner received (access
// token, grant_id, authorization_details...), decoded; nil before any.
func (p *Partner) Token() map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

// New returns a partner with fresh client and DPoP keys, not yet
// registered: register it with JWKS (the command line's `partner add
// --jwks`, or Register in process).
func New(issuer, id string, now func() time.Time) (*Partner, error) {
	if now == nil {
		now = time.Now
	}
	p := &Partner{ID: id, Issuer: strings.TrimSuffix(issuer, "/"), Redirect: "http://127.0.0.1:9/" + id + "/cb", Now: now,
		HTTP: &http.Client{Timeout: 30 * time.Second}}
	var err error
	if p.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if p.dpop, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	p.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: p.dpop}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return nil, err
	}
	return p, nil
}

// JWKS is the partner's public client key as a JSON Web Key Set.
func (p *Partner) JWKS() []byte {
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	return jwks
}

// Register registers a partner with a purpose for every cluster and the
// given rate limit (requests per minute; 0 for the default).
func Register(ctx context.Context, cs *consent.Service, issuer, id string, rate int, now func() time.Time) (*Partner, error) {
	p, err := New(issuer, id, now)
	if err != nil {
		return nil, err
	}
	purposes := map[consent.Cluster]string{}
	for _, c := range consent.Clusters {
		purposes[c.Cluster] = "test purpose for " + strings.ToLower(string(c.Cluster))
	}
	_, err = cs.RegisterPartner(ctx, consent.Partner{ID: consent.PartnerID(id), LegalName: "Partner " + id + " Ltd", LEI: "5493001KJTIIGC8Y1R12",
		Homepage: "https://" + id + ".example", SecurityContact: "security@" + id + ".example", RedirectURIs: []string{p.Redirect}, JWKS: p.JWKS(),
		Purposes: purposes, Attestation: consent.Attestation{NoSecondaryUse: true, Signatory: "Jo Doe, CEO"}, RateLimit: rate}, "test")
	if err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Partner) assertion() (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: p.key, KeyID: "k1"}}, nil)
	if err != nil {
		return "", err
	}
	now := p.Now()
	return jwt.Signed(sig).Claims(jwt.Claims{Issuer: p.ID, Subject: p.ID, Audience: jwt.Audience{p.Issuer}, ID: rand.Text(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
}

// Proof returns a DPoP proof for method and u (without query), bound to
// token when it is not empty.
func (p *Partner) Proof(method, u, token string) (string, error) {
	claims := map[string]any{"jti": rand.Text(), "htm": method, "htu": u, "iat": p.Now().Unix()}
	p.mu.Lock()
	if p.nonce != "" {
		claims["nonce"] = p.nonce
	}
	p.mu.Unlock()
	if token != "" {
		h := sha256.Sum256([]byte(token))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(h[:])
	}
	return jwt.Signed(p.signer).Claims(claims).Serialize()
}

// form posts an OAuth form with a client assertion and a DPoP proof,
// retrying once with the server's nonce.
func (p *Partner) form(ctx context.Context, path string, form url.Values) (map[string]any, error) {
	for attempt := 0; ; attempt++ {
		a, err := p.assertion()
		if err != nil {
			return nil, err
		}
		form.Set("client_assertion_type", oauth.AssertionType)
		form.Set("client_assertion", a)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.Issuer+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		proof, err := p.Proof(http.MethodPost, p.Issuer+path, "")
		if err != nil {
			return nil, err
		}
		req.Header.Set("DPoP", proof)
		res, err := p.HTTP.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if n := res.Header.Get("DPoP-Nonce"); n != "" {
			p.mu.Lock()
			p.nonce = n
			p.mu.Unlock()
		}
		var out map[string]any
		_ = json.Unmarshal(body, &out)
		if res.StatusCode == http.StatusBadRequest && out["error"] == "use_dpop_nonce" && attempt == 0 {
			continue
		}
		if res.StatusCode/100 != 2 {
			return out, fmt.Errorf("%s: %d %s", path, res.StatusCode, body)
		}
		return out, nil
	}
}

// Link makes a consent for customer over accounts with clusters, as if the
// customer approved it on the consent screen (Decider is the authorization
// server's Decide), and returns a DPoP-bound access token and the consent id.
func (p *Partner) Link(ctx context.Context, decide func(context.Context, consent.Decision) (string, error), customer bankbridge.CustomerID,
	accounts []ledger.AccountID, clusters []consent.Cluster) (token, grant string, err error) {
	token, grant, _, err = p.LinkAccounts(ctx, decide, customer, accounts, clusters)
	return token, grant, err
}

// LinkAccounts is Link that also returns the partner's ids of the consent's
// accounts, as the token response's authorization_details names them (the
// same ids the API answers with).
func (p *Partner) LinkAccounts(ctx context.Context, decide func(context.Context, consent.Decision) (string, error), customer bankbridge.CustomerID,
	accounts []ledger.AccountID, clusters []consent.Cluster) (token, grant string, ids []string, err error) {
	verifier := rand.Text() + rand.Text()
	sum := sha256.Sum256([]byte(verifier))
	cl, _ := json.Marshal(clusters)
	details := `[{"type":"fdx_v1.0","consentRequest":{"durationType":"TIME_BOUND","durationPeriod":90,"lookbackPeriod":365,` +
		`"resources":[{"resourceType":"ACCOUNT","dataClusters":` + string(cl) + `}]}}]`
	out, err := p.form(ctx, oauth.PathPAR, url.Values{"response_type": {"code"}, "client_id": {p.ID}, "redirect_uri": {p.Redirect},
		"state": {"st"}, "code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
		"authorization_details": {details}})
	if err != nil {
		return "", "", nil, err
	}
	reqURI, _ := out["request_uri"].(string)
	back, err := decide(ctx, consent.Decision{Request: strings.TrimPrefix(reqURI, "urn:ietf:params:oauth:request_uri:"), Customer: customer,
		Approve: true, Accounts: accounts})
	if err != nil {
		return "", "", nil, err
	}
	u, err := url.Parse(back)
	if err != nil {
		return "", "", nil, err
	}
	out, err = p.form(ctx, oauth.PathToken, url.Values{"grant_type": {"authorization_code"}, "code": {u.Query().Get("code")},
		"redirect_uri": {p.Redirect}, "code_verifier": {verifier}})
	if err != nil {
		return "", "", nil, err
	}
	token, _ = out["access_token"].(string)
	grant, _ = out["grant_id"].(string)
	p.mu.Lock()
	p.last = out
	p.mu.Unlock()
	raw, _ := json.Marshal(out["authorization_details"])
	var ds []oauth.AuthorizationDetail
	if err := json.Unmarshal(raw, &ds); err == nil && len(ds) == 1 {
		for _, r := range ds[0].ConsentRequest.Resources {
			ids = append(ids, r.ResourceID)
		}
	}
	return token, grant, ids, nil
}

// Response is an API answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do calls the API with token and a fresh proof. body, when not nil, is
// sent as JSON; header adds or overrides headers.
func (p *Partner) Do(ctx context.Context, token, method, path string, body []byte, header map[string]string) (Response, error) {
	proof, err := p.Proof(method, p.HTU(path), token)
	if err != nil {
		return Response{}, err
	}
	return p.DoSigned(ctx, token, proof, method, path, body, header)
}

// HTU is the DPoP htu of a call to path: the issuer and the decoded path,
// without the query, as the server compares it.
func (p *Partner) HTU(path string) string {
	u, err := url.Parse(p.Issuer + path)
	if err != nil {
		return p.Issuer + path // the request will fail on it too
	}
	return p.Issuer + u.Path
}

// DoSigned is Do with a proof made beforehand (Proof with HTU(path)): a
// load generator signs its calls ahead so that its own signing does not
// compete with the server it measures.
func (p *Partner) DoSigned(ctx context.Context, token, proof, method, path string, body []byte, header map[string]string) (Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.Issuer+path, rd)
	if err != nil {
		return Response{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "DPoP "+token)
	req.Header.Set("DPoP", proof)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := p.HTTP.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}, err
}
