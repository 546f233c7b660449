package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/oauth"
)

// benchOAuthAPI is the protected resource the benchmark mounts in front of
// the bank's own routes: it runs the Verifier and nothing else.
const benchOAuthAPI = "/bench/api/balances"

// oauthScenario is one line of `bench oauth --json`.
type oauthScenario struct {
	Name    string  `json:"name"`
	Engine  string  `json:"engine"`
	Clients int     `json:"clients"`
	Calls   int     `json:"calls"`
	RPS     float64 `json:"rps"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	Errors  int     `json:"errors"`
	// firstErr is the first failure, shown in the text report.
	firstErr error
}

// benchOAuth measures the authorization server over loopback HTTP against
// the bank's real HTTP surface (app.NewServer, as serve builds it, on
// 127.0.0.1:0) on a throw-away database: the token endpoint's throughput
// for refresh_token grants (each with a fresh client assertion and DPoP
// proof, made by the clients inside the timing, with the server's DPoP
// nonces), and what the Verifier adds to one API call (timed inside the
// server around Verifier.Verify, proofs made by the clients). See
// docs/oauth.md for the figures.
func benchOAuth(ctx context.Context, e env, args []string) error {
	var c app.Config
	fs := flag.NewFlagSet("bench oauth", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	clients := fs.Int("clients", 4, "concurrent partner clients, each waiting for its answer before sending the next")
	duration := fs.Duration("duration", 5*time.Second, "how long each scenario runs")
	asJSON := fs.Bool("json", false, "print one JSON object per scenario")
	if err := app.Parse(fs, args, &c); err != nil {
		return err
	}
	if *clients < 1 || *duration <= 0 {
		return app.UsageError("--clients must be at least 1 and --duration positive")
	}
	// Never into real data: a temporary SQLite file, or a fresh PostgreSQL
	// schema dropped at the end.
	cleanup, err := benchDatabase(ctx, &c)
	if err != nil {
		return err
	}
	defer cleanup()
	bb, err := newOAuthBench(ctx, &c)
	if err != nil {
		return err
	}
	defer bb.close()

	var out []oauthScenario
	tok, err := bb.run(ctx, *clients, *duration, bb.refresh)
	if err != nil {
		return fmt.Errorf("bench oauth: token endpoint: %w", err)
	}
	tok.Name = "token_refresh"
	out = append(out, tok)
	bb.resetVerify()
	call, err := bb.run(ctx, *clients, *duration, bb.apiCall)
	if err != nil {
		return fmt.Errorf("bench oauth: API calls: %w", err)
	}
	call.Name = "api_call"
	ver := bb.verifyLatency()
	ver.Name, ver.Clients, ver.RPS, ver.Errors = "verifier", call.Clients, call.RPS, call.Errors
	out = append(out, call, ver)
	for i := range out {
		out[i].Engine = bb.engine
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		for _, s := range out {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(e.stdout, "engine=%s clients=%d duration=%s (over loopback HTTP, DPoP nonces on)\n", bb.engine, *clients, *duration)
	for _, s := range []struct {
		what string
		s    oauthScenario
	}{
		{"token endpoint, refresh_token grant (client round trip)", out[0]},
		{"API call behind the Verifier (client round trip)", out[1]},
		{"Verifier.Verify alone (timed in the server)", out[2]},
	} {
		fmt.Fprintf(e.stdout, "%-58s %8.0f/s  p50=%.3fms  p99=%.3fms  errors=%d\n", s.what, s.s.RPS, s.s.P50, s.s.P99, s.s.Errors)
		if s.s.firstErr != nil {
			fmt.Fprintf(e.stdout, "  first error: %v\n", s.s.firstErr)
		}
	}
	return nil
}

// oauthBench is the bank under test and one partner with one consent.
type oauthBench struct {
	engine       string
	issuer       string
	srv          *http.Server
	close        func()
	http         *http.Client
	client       *ecdsa.PrivateKey // private_key_jwt
	dpop         *ecdsa.PrivateKey
	refreshToken string
	mu           sync.Mutex
	nonce        string
	access       string
	verify       []time.Duration // Verifier.Verify durations, recorded by the API handler
}

const benchPartner = "bench-partner"

func newOAuthBench(ctx context.Context, c *app.Config) (_ *oauthBench, err error) {
	b, err := app.OpenBackend(ctx, c)
	if err != nil {
		return nil, err
	}
	var closers []func()
	bb := &oauthBench{engine: b.Engine}
	bb.close = func() {
		for _, f := range slices.Backward(closers) {
			f()
		}
	}
	closers = append(closers, func() { b.Close() })
	defer func() {
		if err != nil {
			bb.close()
		}
	}()
	log := slog.New(slog.DiscardHandler)
	led := ledger.New(b.Ledger, b.LedgerOptions())
	closers = append(closers, led.Close)
	_, akey, _ := ed25519.GenerateKey(rand.Reader)
	alog := audit.New(b.Audit, audit.Options{Key: akey, Logger: log})
	closers = append(closers, alog.Close)
	// The same consent service as serve's, hooks and all: every token use
	// posts a consent_used record.
	cons := consent.New(b.Consent, consent.Options{Accounts: b.Ledger, Hooks: []consent.Hook{app.ConsentAudit(alog, log)},
		PartnerHooks: []consent.PartnerHook{app.PartnerAudit(alog, log)}})
	ins := insights.New(b.Insights, insights.Options{})
	events := insights.NewRecorder(ins, &insights.StoreSegments{Customers: b.Identity, Accounts: b.Ledger}, insights.RecorderOptions{Logger: log})
	closers = append(closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		events.Close(ctx)
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	bb.issuer = "http://" + ln.Addr().String()
	as, err := oauth.New(ctx, oauth.Deps{Consent: cons, Issuer: bb.issuer, Logger: log})
	if err != nil {
		ln.Close()
		return nil, err
	}
	verifier := as.Verifier(oauth.VerifierOptions{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+benchOAuthAPI, func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		acc, err := verifier.Verify(r)
		d := time.Since(t0)
		if err != nil {
			verifier.WriteChallenge(w, err)
			return
		}
		bb.mu.Lock()
		bb.verify = append(bb.verify, d)
		bb.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"grant_id\":%q}\n", acc.Grant.ID)
	})
	mux.Handle("/", app.NewServer(app.ServerDeps{Log: log, Reg: prometheus.NewRegistry(), Backend: b, Ledger: led,
		Identity: identity.New(b.Identity, identity.Options{}), Audit: alog, Consent: cons, OAuth: as, Insights: ins, Events: events}))
	bb.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go bb.srv.Serve(ln)
	closers = append(closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		bb.srv.Shutdown(ctx)
	})
	bb.http = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}}

	if bb.client, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if bb.dpop, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if err := bb.seed(ctx, b, cons); err != nil {
		return nil, fmt.Errorf("bench oauth: seed: %w", err)
	}
	return bb, nil
}

// seed registers the partner, gives it a consent from one customer and
// stores a refresh token for it as the token endpoint would (only its
// SHA-256, bound to the client's DPoP key: see consent.RefreshToken), so
// that the benchmark needs no browser.
func (bb *oauthBench) seed(ctx context.Context, b *app.Backend, cons *consent.Service) error {
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &bb.client.PublicKey, Algorithm: "ES256", Use: "sig", KeyID: "k1"}}})
	if err != nil {
		return err
	}
	if _, err := cons.RegisterPartner(ctx, consent.Partner{ID: benchPartner, LegalName: "Bench Partner Ltd", LEI: "5493001KJTIIGC8Y1R12",
		Homepage: "https://bench.example", SecurityContact: "security@bench.example", RedirectURIs: []string{"https://bench.example/cb"},
		JWKS: jwks, Purposes: map[consent.Cluster]string{consent.Balances: "show balances in chat"},
		Attestation: consent.Attestation{NoSecondaryUse: true, Signatory: "Bench"}}, "bench"); err != nil {
		return err
	}
	cust, err := b.Identity.CreateCustomer(ctx, identity.Customer{Name: "Bench Customer", Email: "bench@bench.example", BirthYear: 1985, Since: time.Now()}, "x")
	if err != nil {
		return err
	}
	acct, err := b.Ledger.CreateAccount(ctx, ledger.Account{Customer: cust.ID, Kind: ledger.Checking, Name: "Checking", Currency: "USD",
		Number: "B00000000001", Routing: "021000089"})
	if err != nil {
		return err
	}
	g, err := cons.NewGrant(ctx, consent.GrantRequest{Customer: cust.ID, Partner: benchPartner,
		Resources: []consent.Resource{{Account: acct.ID, Clusters: []consent.Cluster{consent.Balances}}}})
	if err != nil {
		return err
	}
	tp, err := (&jose.JSONWebKey{Key: &bb.dpop.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return err
	}
	bb.refreshToken = rand.Text() + rand.Text()
	h := sha256.Sum256([]byte(bb.refreshToken))
	if err := cons.Store().SaveRefreshToken(ctx, consent.RefreshToken{Hash: h[:], Grant: g.ID, Partner: benchPartner,
		JKT: base64.RawURLEncoding.EncodeToString(tp), Created: cons.Now()}); err != nil {
		return err
	}
	// One refresh to get an access token for the API scenario (and the
	// first nonce).
	if err := bb.refreshGrant(ctx, true); err != nil {
		return err
	}
	if bb.access == "" {
		return errors.New("the token endpoint answered no access token")
	}
	return nil
}

// assertion is a private_key_jwt client assertion (RFC 7523 §3).
func (bb *oauthBench) assertion() (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: bb.client, KeyID: "k1"}}, nil)
	if err != nil {
		return "", err
	}
	now := time.Now()
	return jwt.Signed(sig).Claims(jwt.Claims{Issuer: benchPartner, Subject: benchPartner, Audience: jwt.Audience{bb.issuer},
		ID: rand.Text(), IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute))}).Serialize()
}

// proof is a DPoP proof (RFC 9449 §4.2) with the last nonce the server gave.
func (bb *oauthBench) proof(method, u, accessToken string) (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: bb.dpop}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return "", err
	}
	claims := map[string]any{"jti": rand.Text(), "htm": method, "htu": u, "iat": time.Now().Unix()}
	bb.mu.Lock()
	if bb.nonce != "" {
		claims["nonce"] = bb.nonce
	}
	bb.mu.Unlock()
	if accessToken != "" {
		h := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(h[:])
	}
	return jwt.Signed(sig).Claims(claims).Serialize()
}

// refresh is one refresh_token grant: the token scenario's call.
func (bb *oauthBench) refresh(ctx context.Context) error { return bb.refreshGrant(ctx, false) }

// refreshGrant posts a refresh_token grant, retrying once when the server
// asks for a (new) DPoP nonce (RFC 9449 §8), as a real client does.
func (bb *oauthBench) refreshGrant(ctx context.Context, keep bool) error {
	for attempt := 0; ; attempt++ {
		as, err := bb.assertion()
		if err != nil {
			return err
		}
		pr, err := bb.proof("POST", bb.issuer+oauth.PathToken, "")
		if err != nil {
			return err
		}
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {bb.refreshToken},
			"client_assertion_type": {oauth.AssertionType}, "client_assertion": {as}}
		req, err := http.NewRequestWithContext(ctx, "POST", bb.issuer+oauth.PathToken, strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", pr)
		res, err := bb.http.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			return err
		}
		if n := res.Header.Get("DPoP-Nonce"); n != "" {
			bb.mu.Lock()
			bb.nonce = n
			bb.mu.Unlock()
		}
		if res.StatusCode == http.StatusBadRequest && attempt == 0 && strings.Contains(string(body), "use_dpop_nonce") {
			continue
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("token endpoint: %d %s", res.StatusCode, body)
		}
		if keep {
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(body, &tok); err != nil {
				return err
			}
			bb.access = tok.AccessToken
		}
		return nil
	}
}

// apiCall is one API call with the access token and a fresh proof.
func (bb *oauthBench) apiCall(ctx context.Context) error {
	u := bb.issuer + benchOAuthAPI
	pr, err := bb.proof("GET", u, bb.access)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "DPoP "+bb.access)
	req.Header.Set("DPoP", pr)
	res, err := bb.http.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("API call: %d %s %s", res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
	}
	return nil
}

func (bb *oauthBench) resetVerify() {
	bb.mu.Lock()
	bb.verify = bb.verify[:0]
	bb.mu.Unlock()
}

// verifyLatency summarises the Verifier's own durations.
func (bb *oauthBench) verifyLatency() oauthScenario {
	bb.mu.Lock()
	lat := slices.Clone(bb.verify)
	bb.mu.Unlock()
	slices.Sort(lat)
	s := oauthScenario{Calls: len(lat)}
	if len(lat) > 0 {
		s.P50, s.P99 = ms(quantile(lat, 1, 2)), ms(quantile(lat, 99, 100))
	}
	return s
}

// run calls do from clients goroutines until d has passed and reports
// successful calls per second and their round-trip latency. The first
// error is returned if nothing succeeded; otherwise errors are counted.
func (bb *oauthBench) run(ctx context.Context, clients int, d time.Duration, do func(context.Context) error) (oauthScenario, error) {
	type tally struct {
		lat   []time.Duration
		fails int
		first error
	}
	tallies := make([]tally, clients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			t := &tallies[i]
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if err := do(ctx); err != nil {
					t.fails++
					if t.first == nil {
						t.first = err
					}
					continue
				}
				t.lat = append(t.lat, time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	s := oauthScenario{Clients: clients}
	var all []time.Duration
	var first error
	for _, t := range tallies {
		all = append(all, t.lat...)
		s.Errors += t.fails
		if first == nil {
			first = t.first
		}
	}
	if len(all) == 0 {
		if first == nil {
			first = errors.New("no call finished")
		}
		return s, first
	}
	s.firstErr = first
	slices.Sort(all)
	s.Calls = len(all)
	s.RPS = float64(len(all)) / elapsed.Seconds()
	s.P50, s.P99 = ms(quantile(all, 1, 2)), ms(quantile(all, 99, 100))
	return s, nil
}
