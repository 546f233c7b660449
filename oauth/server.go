package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// Lifetimes the FAPI 2.0 profile and FDX bound.
const (
	// CodeTTL is how long an authorization code lives: at most 60 s
	// (FAPI 2.0 §5.3.2.1).
	CodeTTL = 60 * time.Second
	// MaxAccessTTL is the longest an access token may live: FDX's FAPI 2.0
	// profile sets 900 s.
	MaxAccessTTL = 900 * time.Second
	// DefaultAccessTTL is the access token lifetime unless configured.
	DefaultAccessTTL = 300 * time.Second
	// RequestTTL is how long a pushed request may wait for the customer: the
	// expires_in of its request_uri, under FAPI 2.0's 600 s.
	RequestTTL = 300 * time.Second
	// proofWindow is how far a DPoP proof's or assertion's iat may be from
	// our clock (RFC 9449 §11.1 leaves the window to the server).
	proofWindow = 60 * time.Second
	// nonceTTL is how long a DPoP nonce we issued stays acceptable.
	nonceTTL = 5 * time.Minute
	// keyName is the signing key's name in the store.
	keyName = "as-es256-1"
)

// DetailsType is the authorization_details type carrying an FDX consent
// request (RFC 9396, FDX "fdx_v1.0").
const DetailsType = "fdx_v1.0"

// Deps is what the authorization server needs. Consent and Issuer are
// required.
type Deps struct {
	// Consent keeps partners, consents and the server's working records.
	Consent *consent.Service
	// Issuer is the server's identifier, the public base URL of the bank
	// ("https://bank.example"): iss in tokens and in authorization responses,
	// the only audience accepted in client assertions.
	Issuer string
	// ConsentPath is where the authorization endpoint sends the browser: the
	// web app's consent screen, given ?request=<id>. Default "/consent".
	ConsentPath string
	// AccessTTL is the access token lifetime; default 300 s, at most 900 s.
	AccessTTL time.Duration
	// NoNonce turns off DPoP nonces at the token endpoint (on by default:
	// RFC 9449 §8, proofs cannot be made ahead of time).
	NoNonce bool
	// HTTPClient fetches partners' jwks_uri (when staff allowed one).
	// Default: a client with a 5 s timeout.
	HTTPClient *http.Client
	// Keys are the ES256 keys tokens are signed and verified with. Default:
	// one key made now and kept in memory (one process, no restart: tests).
	Keys Keys
	// Logger receives internal errors. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Server is the authorization server: its endpoints (Handler), the consent
// screen's back end (PendingRequest, Decide) and the resource servers'
// token check (Verifier). It is safe for concurrent use, and any number of
// instances may share one database.
type Server struct {
	d     Deps
	store consent.Store
	ksMu  sync.Mutex // serialises reads of Deps.Keys
	ks    atomic.Pointer[keySet]
	// secret derives from the first signing key: it keys DPoP nonces and
	// pairwise subjects, so every instance computes the same ones.
	secret []byte

	keysMu sync.Mutex
	keys   map[consent.PartnerID]partnerKeys // parsed partner keys

	proofs *proofKeys // DPoP proof headers already checked

	// ids names a consent's accounts to partners as the data API does, so
	// a resourceId in authorization_details is the API's accountId.
	ids *consent.Pseudonyms
}

// New reads the signing keys from Deps.Keys and returns the server. Errors:
// a missing dependency, no usable key, a key source failure.
func New(ctx context.Context, d Deps) (*Server, error) {
	if d.Consent == nil || d.Issuer == "" {
		return nil, errors.New("oauth: Deps.Consent and Deps.Issuer are required")
	}
	d.Issuer = strings.TrimSuffix(d.Issuer, "/")
	if u, err := url.Parse(d.Issuer); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" {
		return nil, fmt.Errorf("oauth: issuer %q is not an absolute http(s) URL without a query", d.Issuer)
	}
	if d.ConsentPath == "" {
		d.ConsentPath = "/consent"
	}
	if d.AccessTTL <= 0 {
		d.AccessTTL = DefaultAccessTTL
	}
	d.AccessTTL = min(d.AccessTTL, MaxAccessTTL)
	if d.HTTPClient == nil {
		d.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Server{d: d, store: d.Consent.Store(), keys: map[consent.PartnerID]partnerKeys{}, proofs: newProofKeys()}
	if d.Keys == nil {
		k, err := newMemKeys()
		if err != nil {
			return nil, err
		}
		s.d.Keys = k
	}
	keys, err := s.d.Keys.OAuthKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("oauth: signing keys: %w", err)
	}
	if s.secret, err = deriveSecret(keys); err != nil {
		return nil, err
	}
	if _, err := s.keySet(ctx); err != nil {
		return nil, err
	}
	idSecret, err := d.Consent.IDSecret(ctx)
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	if s.ids, err = consent.NewPseudonyms(idSecret); err != nil {
		return nil, err
	}
	return s, nil
}

// accountID is the partner's id for an account, the data API's accountId.
func (s *Server) accountID(p consent.PartnerID, a ledger.AccountID) string {
	return s.ids.Account(p, a)
}

// thumbprint is the RFC 7638 thumbprint of pub, base64url: a kid.
func thumbprint(pub *ecdsa.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("oauth: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

func (s *Server) now() time.Time { return s.d.Now().UTC().Truncate(time.Microsecond) }

// Issuer returns the issuer identifier.
func (s *Server) Issuer() string { return s.d.Issuer }

// JWKS returns the server's public keys, as published at /oauth/jwks: every
// key not retired, so tokens of the previous key verify and the next key is
// known before it signs.
func (s *Server) JWKS(ctx context.Context) (jose.JSONWebKeySet, error) {
	ks, err := s.keySet(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	return ks.jwks, nil
}

// Endpoint paths, under the issuer.
const (
	PathPAR        = "/oauth/par"
	PathAuthorize  = "/oauth/authorize"
	PathToken      = "/oauth/token"
	PathIntrospect = "/oauth/introspect"
	PathRevoke     = "/oauth/revoke"
	PathJWKS       = "/oauth/jwks"
)

// Handler serves the endpoints under /oauth/ and the metadata under
// /.well-known/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.metadata)
	mux.HandleFunc("GET "+PathJWKS, s.serveJWKS)
	mux.HandleFunc("POST "+PathPAR, s.par)
	mux.HandleFunc("GET "+PathAuthorize, s.authorize)
	mux.HandleFunc("POST "+PathToken, s.token)
	mux.HandleFunc("POST "+PathIntrospect, s.introspect)
	mux.HandleFunc("POST "+PathRevoke, s.revoke)
	mux.HandleFunc("/oauth/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errf(http.StatusNotFound, codeInvalidRequest, "no such endpoint"))
	})
	return mux
}

// metadata is RFC 8414 authorization server metadata, listing only what the
// server does. No ID tokens are issued, so there is no OpenID Connect
// discovery document (/.well-known/openid-configuration answers 404) and no
// ID-token member (subject_types_supported, id_token_signing_alg_values_
// supported): an OpenID client must not take this server for a provider.
func (s *Server) metadata(w http.ResponseWriter, r *http.Request) {
	algs := []string{}
	for _, a := range consent.SigningAlgs {
		algs = append(algs, string(a))
	}
	scopes := []string{}
	for _, c := range consent.Clusters {
		scopes = append(scopes, string(c.Cluster))
	}
	iss := s.d.Issuer
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                                   iss,
		"authorization_endpoint":                                   iss + PathAuthorize,
		"token_endpoint":                                           iss + PathToken,
		"pushed_authorization_request_endpoint":                    iss + PathPAR,
		"require_pushed_authorization_requests":                    true, // RFC 9126 §5, FAPI 2.0 §5.3.2.2
		"introspection_endpoint":                                   iss + PathIntrospect,
		"revocation_endpoint":                                      iss + PathRevoke,
		"jwks_uri":                                                 iss + PathJWKS,
		"response_types_supported":                                 []string{"code"},
		"response_modes_supported":                                 []string{"query"},
		"grant_types_supported":                                    []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":                         []string{"S256"},
		"token_endpoint_auth_methods_supported":                    []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported":         algs,
		"introspection_endpoint_auth_methods_supported":            []string{"private_key_jwt"},
		"introspection_endpoint_auth_signing_alg_values_supported": algs,
		"revocation_endpoint_auth_methods_supported":               []string{"private_key_jwt"},
		"revocation_endpoint_auth_signing_alg_values_supported":    algs,
		"dpop_signing_alg_values_supported":                        algs,
		"authorization_response_iss_parameter_supported":           true, // RFC 9207 §3
		"authorization_details_types_supported":                    []string{DetailsType},
		"scopes_supported":                                         scopes,
	})
}

func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	set, err := s.JWKS(r.Context())
	if err != nil {
		writeError(w, s.internal(r, err))
		return
	}
	b, _ := json.Marshal(set)
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(b)
}

// internal logs err once and answers server_error; the client learns nothing
// of the cause.
func (s *Server) internal(r *http.Request, err error) *Error {
	if bankbridge.ErrorKind(err) == bankbridge.Unavailable {
		return errf(http.StatusServiceUnavailable, codeTemporarilyUnavail, "try again shortly")
	}
	s.d.Logger.LogAttrs(r.Context(), slog.LevelError, "oauth: internal error", slog.String("path", r.URL.Path),
		slog.String("request_id", bankbridge.RequestID(r.Context())), slog.Any("err", err))
	return errf(http.StatusInternalServerError, codeServerError, "internal error")
}

// subject is the partner's pairwise identifier for a customer: the same for
// every consent of that customer with that partner, different for every
// partner, and not computable without the server's secret.
func (s *Server) subject(p consent.PartnerID, c bankbridge.CustomerID) string {
	mac := hmac.New(sha256.New, s.secret)
	fmt.Fprintf(mac, "sub|%s|%d", p, c)
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) []byte { h := sha256.Sum256([]byte(t)); return h[:] }
