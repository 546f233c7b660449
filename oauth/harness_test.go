package oauth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/oauth"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/web"
)

const (
	password = "correct horse battery"
	email    = "ada@example.com"
	partner  = "budget-app"
	details  = `[{"type":"fdx_v1.0","consentRequest":{"durationType":"TIME_BOUND","durationPeriod":90,"lookbackPeriod":365,` +
		`"resources":[{"resourceType":"ACCOUNT","dataClusters":["ACCOUNT_BASIC","BALANCES"]}]}}]`
)

// clock is the real time plus an offset tests can move forward, shared by
// the bank and the client so that proofs and tokens agree.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// bank is the whole thing over loopback HTTP: the authorization server, the
// web app with its consent screen, and a protected API behind the Verifier,
// all on one real SQLite database.
type bank struct {
	t        testing.TB
	srv      *httptest.Server
	issuer   string
	clock    *clock
	consents *consent.Service
	as       *oauth.Server
	verifier *oauth.Verifier
	ledger   *ledger.Service
	accounts []ledger.Account
	client   *client
	// What a second instance on the same database needs (see
	// TestRevocationReachesOtherInstance): the stores and the signing
	// keys; other answers /api2/ when set.
	store    consent.Store
	accts    consent.Accounts
	keys     oauth.Keys
	otherMu  sync.Mutex
	otherAPI http.Handler
}

// stores is what newBankOn opens on either engine.
type stores struct {
	ledger   ledger.Store
	identity identity.Store
	consent  consent.Store
	close    func() error
}

func newBank(t testing.TB) *bank { return newBankOn(t, "sqlite") }

// newBankOn is newBank on the engine named ("sqlite" or "postgres").
func newBankOn(t testing.TB, engine string) *bank {
	t.Helper()
	ctx := context.Background()
	var db stores
	if engine == "postgres" {
		pdb, err := postgres.Open(ctx, testdb.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		db = stores{pdb.Ledger(), pdb.Identity(), pdb.Consent(), pdb.Close}
	} else {
		sdb, err := sqlite.Open(ctx, testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		db = stores{sdb.Ledger(), sdb.Identity(), sdb.Consent(), sdb.Close}
	}
	t.Cleanup(func() { db.close() })
	var err error
	clk := &clock{}
	led := ledger.New(db.ledger, ledger.Options{Now: clk.Now})
	t.Cleanup(led.Close)
	ids := identity.New(db.identity, identity.Options{Now: clk.Now})
	cs := consent.New(db.consent, consent.Options{Now: clk.Now, Accounts: db.ledger})
	b := &bank{t: t, clock: clk, consents: cs, ledger: led, store: db.consent, accts: db.ledger, keys: newSharedKeys(t)}

	var h http.Handler
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(b.srv.Close)
	b.issuer = b.srv.URL
	b.as, err = oauth.New(ctx, oauth.Deps{Consent: cs, Issuer: b.issuer, Keys: b.keys, Now: clk.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	b.verifier = b.as.Verifier(oauth.VerifierOptions{})
	mux := http.NewServeMux()
	mux.Handle("/oauth/", b.as.Handler())
	mux.Handle("/.well-known/", b.as.Handler())
	mux.HandleFunc("/api/", b.api)
	mux.HandleFunc("/api2/", func(w http.ResponseWriter, r *http.Request) {
		b.otherMu.Lock()
		h := b.otherAPI
		b.otherMu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
	mux.Handle("/", web.New(web.Deps{Auth: ids, Ledger: led, Logger: slog.New(slog.DiscardHandler), Now: clk.Now,
		ConsentFlow: b.as, Consents: cs}))
	h = mux

	c, err := ids.RegisterCustomer(ctx, identity.Customer{Name: "Ada Lovelace", Email: email, BirthYear: 1985}, password)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"Everyday checking", "Savings"} {
		a, err := db.ledger.CreateAccount(ctx, ledger.Account{Customer: c.ID, Kind: ledger.Checking, Name: name, Currency: "USD",
			Number: ledger.AccountNumber(fmt.Sprintf("100000000%d", i+1)), Routing: "011000015"})
		if err != nil {
			t.Fatal(err)
		}
		b.accounts = append(b.accounts, a)
	}
	b.client = b.newClient(partner)
	return b
}

// api is a protected resource: it answers the consent's id and whether it
// covers BALANCES on the first account.
func (b *bank) api(w http.ResponseWriter, r *http.Request) {
	acc, err := b.verifier.Verify(r)
	if err != nil {
		b.verifier.WriteChallenge(w, err)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"grant_id": acc.Grant.ID, "balances": acc.Allows(b.accounts[0].ID, consent.Balances)})
}

// sharedKeys is one ES256 key every instance of a test's bank signs and
// verifies with, as the keyring gives a fleet one key.
type sharedKeys []oauth.SigningKey

func (k sharedKeys) OAuthKeys(context.Context) ([]oauth.SigningKey, error) { return k, nil }

func newSharedKeys(t testing.TB) sharedKeys {
	k := newKey(t)
	tp, err := (&jose.JSONWebKey{Key: &k.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return sharedKeys{{ID: base64.RawURLEncoding.EncodeToString(tp), Key: k, Active: true}}
}

// client is a partner: its private_key_jwt key, its DPoP key, and the last
// DPoP nonce the server gave it.
type client struct {
	b       *bank
	id      string
	key     *ecdsa.PrivateKey
	dpop    *ecdsa.PrivateKey
	mu      sync.Mutex
	nonce   string
	redirct string
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newClient registers a partner and returns its client.
func (b *bank) newClient(id string) *client {
	b.t.Helper()
	c := &client{b: b, id: id, key: newKey(b.t), dpop: newKey(b.t), redirct: "http://127.0.0.1:9/" + id + "/callback"}
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &c.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	_, err := b.consents.RegisterPartner(context.Background(), consent.Partner{
		ID: consent.PartnerID(id), LegalName: "Budget App Ltd", LEI: "5493001KJTIIGC8Y1R12", Homepage: "https://budget.example",
		SecurityContact: "security@budget.example", RedirectURIs: []string{c.redirct}, JWKS: jwks,
		Purposes: map[consent.Cluster]string{consent.AccountBasic: "name your accounts in the app",
			consent.Balances: "show balances in chat", consent.Transactions: "fraud alerts"},
		Attestation: consent.Attestation{NoSecondaryUse: true, Signatory: "Jo Doe, CEO"},
	}, "test")
	if err != nil {
		b.t.Fatal(err)
	}
	return c
}

// assertion is a private_key_jwt client assertion (RFC 7523 §3).
func (c *client) assertion(aud string, exp time.Duration) string {
	now := c.b.clock.Now()
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: c.key, KeyID: "k1"}}, nil)
	if err != nil {
		c.b.t.Fatal(err)
	}
	s, err := jwt.Signed(sig).Claims(jwt.Claims{Issuer: c.id, Subject: c.id, Audience: jwt.Audience{aud}, ID: rand.Text(),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(exp))}).Serialize()
	if err != nil {
		c.b.t.Fatal(err)
	}
	return s
}

// proof is a DPoP proof (RFC 9449 §4.2) signed by key.
func (c *client) proof(key *ecdsa.PrivateKey, method, u, accessToken string) string {
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		c.b.t.Fatal(err)
	}
	claims := map[string]any{"jti": rand.Text(), "htm": method, "htu": u, "iat": c.b.clock.Now().Unix()}
	c.mu.Lock()
	if c.nonce != "" {
		claims["nonce"] = c.nonce
	}
	c.mu.Unlock()
	if accessToken != "" {
		h := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(h[:])
	}
	s, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		c.b.t.Fatal(err)
	}
	return s
}

// transport is the partner's HTTP stack: to the token, PAR, revocation and
// introspection endpoints it adds a client assertion to the form and a DPoP
// proof, retrying once when the server asks for a nonce; to the API it
// presents the token with a proof.
type transport struct {
	c      *client
	dpop   *ecdsa.PrivateKey // the key proofs are signed with
	token  string            // for API calls
	noDPoP bool
}

func (tr *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	for attempt := 0; ; attempt++ {
		req := r.Clone(r.Context())
		u := strings.SplitN(req.URL.String(), "?", 2)[0]
		if strings.HasPrefix(req.URL.Path, "/oauth/") {
			form, _ := url.ParseQuery(string(body))
			if !form.Has("client_assertion") {
				form.Set("client_assertion_type", oauth.AssertionType)
				form.Set("client_assertion", tr.c.assertion(tr.c.b.issuer, time.Minute))
			}
			enc := form.Encode()
			req.Body, req.ContentLength = io.NopCloser(strings.NewReader(enc)), int64(len(enc))
			if !tr.noDPoP {
				req.Header.Set("DPoP", tr.c.proof(tr.dpop, req.Method, u, ""))
			}
		} else if tr.token != "" {
			req.Header.Set("Authorization", "DPoP "+tr.token)
			req.Header.Set("DPoP", tr.c.proof(tr.dpop, req.Method, u, tr.token))
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		if n := res.Header.Get("DPoP-Nonce"); n != "" {
			tr.c.mu.Lock()
			tr.c.nonce = n
			tr.c.mu.Unlock()
		}
		if attempt == 0 && res.StatusCode == http.StatusBadRequest && res.Header.Get("DPoP-Nonce") != "" {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.Contains(string(b), "use_dpop_nonce") {
				continue // RFC 9449 §8: retry with the nonce
			}
			res.Body = io.NopCloser(strings.NewReader(string(b)))
		}
		return res, nil
	}
}

// http returns the partner's client using its own DPoP key.
func (c *client) http() *http.Client { return &http.Client{Transport: &transport{c: c, dpop: c.dpop}} }

// config is the partner's x/oauth2 configuration.
func (c *client) config() *oauth2.Config {
	return &oauth2.Config{ClientID: c.id, RedirectURL: c.redirct, Endpoint: oauth2.Endpoint{
		AuthURL: c.b.issuer + oauth.PathAuthorize, TokenURL: c.b.issuer + oauth.PathToken, AuthStyle: oauth2.AuthStyleInParams}}
}

func (c *client) ctx() context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, c.http())
}

// par pushes an authorization request; extra overrides or removes (empty
// value) parameters. It returns the status and the decoded answer.
func (c *client) par(verifier string, extra url.Values) (int, map[string]any) {
	c.b.t.Helper()
	form := url.Values{
		"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {c.redirct}, "state": {"st-123"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
		"authorization_details": {details},
	}
	for k, v := range extra {
		if v[0] == "" {
			form.Del(k)
		} else {
			form[k] = v
		}
	}
	res, err := c.http().PostForm(c.b.issuer+oauth.PathPAR, form)
	if err != nil {
		c.b.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

var (
	csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	nextRe = regexp.MustCompile(`name="next" value="([^"]+)"`)
)

func field(t testing.TB, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in page:\n%s", re, body)
	}
	return html.UnescapeString(m[1])
}

// browser is the customer's browser: a cookie jar, stopping at the
// partner's redirect URI.
func (b *bank) browser(redirect string) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

func read(t testing.TB, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// consentScreen opens the authorization URL in a fresh browser, logs in as
// the customer and returns the browser on the consent page with its body.
func (b *bank) consentScreen(c *client, requestURI string) (*http.Client, string) {
	b.t.Helper()
	br := b.browser(c.redirct)
	authURL := b.issuer + oauth.PathAuthorize + "?" + url.Values{"client_id": {c.id}, "request_uri": {requestURI}}.Encode()
	res, err := br.Get(authURL)
	if err != nil {
		b.t.Fatal(err)
	}
	login := read(b.t, res)
	if res.Request.URL.Path != "/login" {
		b.t.Fatalf("authorization endpoint led to %s, want the login page", res.Request.URL)
	}
	res, err = br.PostForm(b.issuer+"/login", url.Values{"csrf": {field(b.t, csrfRe, login)}, "email": {email},
		"password": {password}, "next": {field(b.t, nextRe, login)}})
	if err != nil {
		b.t.Fatal(err)
	}
	page := read(b.t, res)
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/consent" {
		b.t.Fatalf("after login: %d at %s\n%s", res.StatusCode, res.Request.URL, page)
	}
	return br, page
}

// decide submits the consent form and returns the redirect to the partner.
func (b *bank) decide(br *http.Client, page string, form url.Values) *url.URL {
	b.t.Helper()
	form.Set("csrf", field(b.t, csrfRe, page))
	form.Set("request", field(b.t, regexp.MustCompile(`name="request" value="([^"]+)"`), page))
	res, err := br.PostForm(b.issuer+"/consent", form)
	if err != nil {
		b.t.Fatal(err)
	}
	body := read(b.t, res)
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("consent decision: status %d\n%s", res.StatusCode, body)
	}
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// authorize runs PAR and the consent screen (approving the first account
// for 30 days) and returns the code from the redirect.
func (b *bank) authorize(c *client, verifier string) string {
	b.t.Helper()
	status, out := c.par(verifier, nil)
	if status != http.StatusCreated {
		b.t.Fatalf("PAR: %d %v", status, out)
	}
	br, page := b.consentScreen(c, out["request_uri"].(string))
	back := b.decide(br, page, url.Values{"decision": {"approve"}, "account": {fmt.Sprint(b.accounts[0].ID)}, "days": {"30"}})
	q := back.Query()
	if q.Get("iss") != b.issuer || q.Get("state") != "st-123" || q.Get("code") == "" {
		b.t.Fatalf("authorization response %s lacks code, state or iss (RFC 9207)", back)
	}
	return q.Get("code")
}

// link runs the whole flow up to tokens.
func (b *bank) link(c *client) *oauth2.Token {
	b.t.Helper()
	v := oauth2.GenerateVerifier()
	code := b.authorize(c, v)
	tok, err := c.config().Exchange(c.ctx(), code, oauth2.VerifierOption(v))
	if err != nil {
		b.t.Fatalf("exchange: %v", err)
	}
	return tok
}

// call makes an API call with token, its proofs signed by key.
func (b *bank) call(c *client, key *ecdsa.PrivateKey, token string) (int, string) {
	b.t.Helper()
	hc := &http.Client{Transport: &transport{c: c, dpop: key, token: token}}
	res, err := hc.Get(b.issuer + "/api/balances")
	if err != nil {
		b.t.Fatal(err)
	}
	return res.StatusCode, read(b.t, res)
}

// postToken posts a raw form to the token endpoint with the given DPoP
// header (none if empty) and returns the status and the error code.
func (b *bank) postRaw(path string, form url.Values, dpop string) (int, map[string]any, http.Header) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.issuer+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if dpop != "" {
		req.Header.Set("DPoP", dpop)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, res.Header
}
