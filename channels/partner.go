package channels

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
)

// Client is the channel's OAuth client of the bank's authorization server:
// it acts as the platform partner's back end, with private_key_jwt client
// authentication (RFC 7523), PKCE S256 (RFC 7636), pushed authorization
// requests (RFC 9126) and DPoP proofs (RFC 9449), over HTTP like any
// partner. It keeps no tokens: the token response names the consent
// (grant_id), which is all a link needs.
type Client struct {
	ID          consent.PartnerID
	Issuer      string // the bank's issuer identifier, its base URL
	RedirectURI string // registered for the partner: the platform's account-linking redirect
	Key         *ecdsa.PrivateKey
	// Clusters and DurationDays are what the link asks the customer for.
	Clusters     []consent.Cluster
	DurationDays int
	HTTP         *http.Client
	Now          func() time.Time

	dpop  *ecdsa.PrivateKey // derived from Key (dpopKey): the same on every instance of a fleet
	mu    sync.Mutex
	nonce string
	meta  *metadata
}

type metadata struct {
	Issuer    string `json:"issuer"`
	Authorize string `json:"authorization_endpoint"`
	Token     string `json:"token_endpoint"`
	PAR       string `json:"pushed_authorization_request_endpoint"`
}

// ErrLink reports an account linking the bank's authorization server
// refused or could not finish.
var ErrLink = bankbridge.E(bankbridge.Unavailable, "chat_link_failed", "linking the account did not work; try again from the chat")

// PKCE returns a fresh code verifier and its S256 challenge (RFC 7636 §4.1,
// §4.2).
func PKCE() (verifier, challenge string) {
	var b [32]byte
	rand.Read(b[:])
	verifier = base64.RawURLEncoding.EncodeToString(b[:])
	h := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(h[:])
}

func (c *Client) now() time.Time {
	if c.Now == nil {
		return time.Now()
	}
	return c.Now()
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP == nil {
		return &http.Client{Timeout: 10 * time.Second}
	}
	return c.HTTP
}

// discover reads the server's metadata (RFC 8414) once.
func (c *Client) discover(ctx context.Context) (*metadata, error) {
	c.mu.Lock()
	m := c.meta
	c.mu.Unlock()
	if m != nil {
		return m, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.Issuer, "/")+"/.well-known/oauth-authorization-server", nil)
	if err != nil {
		return nil, err
	}
	res, err := c.httpClient().Do(req)
	if err != nil {
		return nil, ErrLink.WithOp("channels.discover", err)
	}
	defer res.Body.Close()
	m = new(metadata)
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(m); err != nil || res.StatusCode != http.StatusOK {
		return nil, ErrLink.WithOp("channels.discover", fmt.Errorf("metadata: %s %v", res.Status, err))
	}
	if m.Issuer != strings.TrimSuffix(c.Issuer, "/") || m.PAR == "" || m.Token == "" || m.Authorize == "" {
		return nil, ErrLink.WithOp("channels.discover", fmt.Errorf("metadata of issuer %q is incomplete", m.Issuer))
	}
	c.mu.Lock()
	c.meta = m
	c.mu.Unlock()
	return m, nil
}

// dpopKey returns the DPoP key, derived from Key with HKDF-SHA256 on first
// use. It must be the same on every instance that holds Key: the pushed
// authorization request binds the code to the key's thumbprint (RFC 9449
// §10), and in a fleet the platform's redirect, which redeems the code,
// may reach another instance than the chat message that pushed the
// request. A key per process made that exchange fail ("the DPoP key
// differs") whenever the two instances differed. Deriving it adds no
// secret: whoever holds Key can already act as this client.
func (c *Client) dpopKey() (*ecdsa.PrivateKey, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dpop != nil {
		return c.dpop, nil
	}
	seed, err := c.Key.Bytes()
	if err != nil {
		return nil, fmt.Errorf("channels: DPoP key: %w", err)
	}
	// A 32-byte string is a valid P-256 scalar unless it is 0 or at least
	// the group order, which happens with a probability near 2^-32: the
	// counter in the info string picks the next candidate then.
	for i := 0; ; i++ {
		d, err := hkdf.Key(sha256.New, seed, nil, fmt.Sprintf("bankbridge channels DPoP key %d", i), 32)
		if err != nil {
			return nil, fmt.Errorf("channels: DPoP key: %w", err)
		}
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
		if err == nil {
			c.dpop = k
			return k, nil
		}
		if i == 7 {
			return nil, fmt.Errorf("channels: DPoP key: %w", err)
		}
	}
}

// assertion is a private_key_jwt client assertion (RFC 7523 §3): iss = sub
// = client_id, aud = the issuer, one minute of life, a fresh jti.
func (c *Client) assertion() (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: c.Key, KeyID: KeyID(&c.Key.PublicKey)}}, nil)
	if err != nil {
		return "", err
	}
	now := c.now()
	return jwt.Signed(sig).Claims(jwt.Claims{Issuer: string(c.ID), Subject: string(c.ID), Audience: jwt.Audience{strings.TrimSuffix(c.Issuer, "/")},
		ID: rand.Text(), IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
}

// proof is a DPoP proof for one request (RFC 9449 §4.2).
func (c *Client) proof(method, u string) (string, error) {
	key, err := c.dpopKey()
	if err != nil {
		return "", err
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		return "", err
	}
	claims := map[string]any{"jti": rand.Text(), "htm": method, "htu": u, "iat": c.now().Unix()}
	c.mu.Lock()
	if c.nonce != "" {
		claims["nonce"] = c.nonce
	}
	c.mu.Unlock()
	return jwt.Signed(sig).Claims(claims).Serialize()
}

// post sends an authenticated form with a DPoP proof, retrying once when
// the server asks for a nonce (RFC 9449 §8), and decodes the JSON answer.
func (c *Client) post(ctx context.Context, endpoint string, form url.Values, want int, out any) error {
	for attempt := 0; ; attempt++ {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		a, err := c.assertion()
		if err != nil {
			return err
		}
		f.Set("client_id", string(c.ID))
		f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		f.Set("client_assertion", a)
		p, err := c.proof(http.MethodPost, endpoint)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(f.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", p)
		res, err := c.httpClient().Do(req)
		if err != nil {
			return ErrLink.WithOp("channels.post", err)
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, 256<<10))
		res.Body.Close()
		if err != nil {
			return ErrLink.WithOp("channels.post", err)
		}
		if n := res.Header.Get("DPoP-Nonce"); n != "" {
			c.mu.Lock()
			c.nonce = n
			c.mu.Unlock()
		}
		if res.StatusCode == want {
			return json.Unmarshal(body, out)
		}
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		json.Unmarshal(body, &oe)
		if attempt == 0 && oe.Error == "use_dpop_nonce" {
			continue
		}
		cause := fmt.Errorf("%s answered %s: %s %s", endpoint, res.Status, oe.Error, oe.Description)
		if res.StatusCode >= 500 {
			return ErrLink.WithOp("channels.post", cause)
		}
		return ErrLink.WithMessage("the bank refused the account linking; start again from the chat").WithOp("channels.post", cause)
	}
}

// Authorize pushes an authorization request for the partner (RFC 9126)
// carrying an FDX consent request for the Client's clusters, with state and
// a PKCE challenge, and returns the URL to send the customer's browser to.
func (c *Client) Authorize(ctx context.Context, state, challenge string) (string, error) {
	m, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	days := c.DurationDays
	if days == 0 {
		days = consent.DefaultDays
	}
	details, _ := json.Marshal([]map[string]any{{"type": "fdx_v1.0", "consentRequest": map[string]any{
		"durationType": "TIME_BOUND", "durationPeriod": days, "lookbackPeriod": 90,
		"resources": []map[string]any{{"resourceType": "ACCOUNT", "dataClusters": c.Clusters}}}}})
	form := url.Values{"response_type": {"code"}, "redirect_uri": {c.RedirectURI}, "state": {state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "authorization_details": {string(details)}}
	var out struct {
		RequestURI string `json:"request_uri"`
	}
	if err := c.post(ctx, m.PAR, form, http.StatusCreated, &out); err != nil {
		return "", err
	}
	return m.Authorize + "?" + url.Values{"client_id": {string(c.ID)}, "request_uri": {out.RequestURI}}.Encode(), nil
}

// Exchange redeems an authorization code with its PKCE verifier and returns
// the consent it stands for (the token response's grant_id). The tokens
// themselves are dropped: the link needs only the consent.
func (c *Client) Exchange(ctx context.Context, code, verifier string) (consent.GrantID, error) {
	m, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.RedirectURI}, "code_verifier": {verifier}}
	var out struct {
		GrantID   string `json:"grant_id"`
		TokenType string `json:"token_type"`
	}
	if err := c.post(ctx, m.Token, form, http.StatusOK, &out); err != nil {
		return "", err
	}
	if out.GrantID == "" || !strings.EqualFold(out.TokenType, "DPoP") {
		return "", ErrLink.WithOp("channels.Exchange", errors.New("token response without grant_id or not DPoP-bound"))
	}
	return consent.GrantID(out.GrantID), nil
}

// KeyID is the RFC 7638 thumbprint of a public key, used as its kid.
func KeyID(pub *ecdsa.PublicKey) string {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// JWKS is the public key set to register for the partner.
func JWKS(pub *ecdsa.PublicKey) json.RawMessage {
	b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: pub, KeyID: KeyID(pub), Algorithm: "ES256", Use: "sig"}}})
	return b
}

// LoadOrCreateKey reads the partner's ES256 private key from path (PKCS #8
// PEM), creating it (mode 0600) when the file does not exist.
func LoadOrCreateKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return LoadOrCreateKey(path) // another process won the race
		}
		if err != nil {
			return nil, err
		}
		if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
			f.Close()
			return nil, err
		}
		return k, f.Close()
	}
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("channels: %s is not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("channels: %s: %w", path, err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, fmt.Errorf("channels: %s is not a P-256 key", path)
	}
	return ek, nil
}

// Registration describes a platform's partner for RegisterPartner.
type Registration struct {
	ID              consent.PartnerID
	LegalName       string
	LEI             string
	Homepage        string
	SecurityContact string
	RedirectURI     string
	Key             *ecdsa.PublicKey
	Purposes        map[consent.Cluster]string
	Signatory       string
	// Former, when set, recognises a redirect URI an earlier version of
	// the channel registered and that this one replaces (Messenger: the
	// platform's own account-linking redirect, before the bank took the
	// OAuth redirect itself). A partner registered with the channel's key
	// and only such URIs is moved to RedirectURI, once, with a reason in
	// its history and the audit log; any other difference is still
	// ErrPartnerMismatch, for staff to look at.
	Former func(uri string) bool
}

// Registrar is what RegisterPartner needs: *consent.Service.
type Registrar interface {
	Partner(ctx context.Context, id consent.PartnerID) (consent.Partner, error)
	RegisterPartner(ctx context.Context, p consent.Partner, by string) (consent.Partner, error)
	ReplaceRedirectURIs(ctx context.Context, id consent.PartnerID, from, to []string, reason, by string) (bool, error)
}

// ErrPartnerMismatch reports a partner already registered with other keys
// or redirect URIs than the channel's: staff must look at it.
var ErrPartnerMismatch = bankbridge.E(bankbridge.Conflict, "chat_partner_mismatch",
	"the platform partner is registered with other keys or redirect URIs; check it with 'bankbridge partner show'")

// RegisterPartner registers the platform's partner with its key and
// redirect URI, idempotently: an identical registration already there is
// fine; one with another key or redirect URI is ErrPartnerMismatch (the
// bank never silently rewrites a partner's keys).
func RegisterPartner(ctx context.Context, r Registrar, reg Registration) (consent.Partner, error) {
	p, err := r.Partner(ctx, reg.ID)
	if err == nil {
		set, perr := consent.ParseJWKS(p.JWKS)
		sameKey := perr == nil && slices.ContainsFunc(set.Keys, func(k jose.JSONWebKey) bool {
			pub, ok := k.Key.(*ecdsa.PublicKey)
			return ok && pub.Equal(reg.Key)
		})
		switch {
		case sameKey && slices.Contains(p.RedirectURIs, reg.RedirectURI):
			return p, nil
		case sameKey && reg.Former != nil && len(p.RedirectURIs) > 0 && !slices.ContainsFunc(p.RedirectURIs, func(u string) bool { return !reg.Former(u) }):
			// Registered by an earlier version of the channel, with the
			// redirect it no longer uses: moved, compare-and-set, so that
			// of a fleet starting at once one instance does it and the
			// others find it done.
			if _, err := r.ReplaceRedirectURIs(ctx, reg.ID, p.RedirectURIs, []string{reg.RedirectURI},
				"the channel now takes the OAuth redirect itself at "+reg.RedirectURI+" (was the platform's own redirect)", "system"); err != nil {
				return p, err
			}
			return RegisterPartner(ctx, r, reg)
		}
		return p, ErrPartnerMismatch.WithOp("channels.RegisterPartner", nil)
	}
	if !errors.Is(err, consent.ErrPartnerNotFound) {
		return consent.Partner{}, err
	}
	p, err = r.RegisterPartner(ctx, consent.Partner{ID: reg.ID, LegalName: reg.LegalName, LEI: reg.LEI, Homepage: reg.Homepage,
		SecurityContact: reg.SecurityContact, RedirectURIs: []string{reg.RedirectURI}, JWKS: JWKS(reg.Key), Purposes: reg.Purposes,
		Attestation: consent.Attestation{NoSecondaryUse: true, Signatory: reg.Signatory}}, "system")
	if errors.Is(err, consent.ErrPartnerTaken) {
		return RegisterPartner(ctx, r, reg) // registered concurrently by another instance
	}
	return p, err
}
