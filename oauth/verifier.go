package oauth

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// VerifierOptions tune a Verifier. The zero value gives working defaults.
type VerifierOptions struct {
	// BaseURL is the public scheme and host of the API, against which a DPoP
	// proof's htu is compared (with the request's path). Default: the issuer.
	BaseURL string
	// CacheTTL bounds the delay before a revocation or suspension made on
	// another instance takes effect on this one. A consent's status is
	// reused while a poll of the changes (consent.Service.ChangedSince)
	// that started less than CacheTTL ago has completed, and read again
	// from the store otherwise. Default and maximum one second.
	CacheTTL time.Duration
	// RequireNonce asks API callers for a server nonce in their proofs
	// (RFC 9449 §9). Off by default: the token endpoint already uses them.
	RequireNonce bool
}

// Access is what a verified request may do: its consent and partner, the
// partner's pairwise subject for the customer, the clusters the token
// carries (shared between calls of one token: read it, never change it).
type Access struct {
	Grant   consent.Grant
	Partner consent.Partner
	Subject string
	Scope   []consent.Cluster
	JKT     string
	Expires time.Time
}

// Allows reports whether the access covers cluster for account: in the
// consent and in the token's scope.
func (a Access) Allows(account ledger.AccountID, cluster consent.Cluster) bool {
	for _, c := range a.Scope {
		if c == cluster {
			return a.Grant.Covers(account, cluster)
		}
	}
	return false
}

// Verifier is the resource server's side: it checks a DPoP-bound access
// token and its proof on a request, and that the consent behind it is in
// force and its partner active. Signatures are checked locally. Consent
// status is cached per consent; every CacheTTL/2 one call asks the store
// which consents and partners changed since the last poll (one query per
// instance, not one per consent) and drops those from the cache, so a
// revocation takes effect on every instance within CacheTTL. It is safe
// for concurrent use.
type Verifier struct {
	s      *Server
	o      VerifierOptions
	replay *replayCache

	mu    sync.Mutex
	cache map[consent.GrantID]*cachedGrant
	// The poll of changed consents, under mu: polledAt is when the last
	// successful poll started (it saw every change committed before),
	// polls counts them, since is where the next one starts, tried when
	// the last one was tried. pollMu is held by the one call polling.
	polledAt, since, tried time.Time
	polls, pollsStarted    uint64
	pollMu                 sync.Mutex
	// reading holds the reads of a consent in flight, so that the calls
	// that miss the cache at once for one consent share one read.
	reading map[consent.GrantID]*grantRead
	// unpolled lists the entries cached with polled false, for the polls
	// that upgrade them (cachedGrant.polled).
	unpolled map[consent.GrantID]struct{}

	tokMu  sync.Mutex
	tokens map[[sha256.Size]byte]accessClaims // verified access tokens; see access
}

// maxCachedTokens bounds the verified-token cache (about 400 bytes each).
const maxCachedTokens = 50_000

type cachedGrant struct {
	g       consent.Grant
	p       consent.Partner
	err     error
	fetched time.Time
	touched time.Time
	// polled marks a read no poll completed during: every change after it
	// is reported by a poll, so it stays good while polls run (see
	// grant). Otherwise it is good for CacheTTL after fetched, or until a
	// poll that started after it was cached (epoch) completes: that poll
	// reports every change of the last changeOverlap, so any the read
	// missed, and the entry becomes polled.
	polled bool
	epoch  uint64 // pollsStarted when the entry was cached
	// ended marks a consent this instance saw end (ConsentEvent): kept
	// whatever a concurrent read of the store brings back, since an ended
	// consent never comes back.
	ended bool
}

// Verifier returns a verifier for resource servers of this issuer.
func (s *Server) Verifier(o VerifierOptions) *Verifier {
	if o.BaseURL == "" {
		o.BaseURL = s.d.Issuer
	}
	o.BaseURL = strings.TrimSuffix(o.BaseURL, "/")
	if o.CacheTTL <= 0 || o.CacheTTL > time.Second {
		o.CacheTTL = time.Second
	}
	return &Verifier{s: s, o: o, replay: newReplayCache(), cache: map[consent.GrantID]*cachedGrant{}, tokens: map[[sha256.Size]byte]accessClaims{},
		reading: map[consent.GrantID]*grantRead{}, unpolled: map[consent.GrantID]struct{}{}, since: s.now().Add(-changeOverlap)}
}

const (
	// changeOverlap is how far before the last poll's start each poll
	// looks back. A change is stamped (Updated) by the instance that makes
	// it, before its transaction commits; a poll finds it if the commit
	// came less than changeOverlap after the stamp, clock skew between
	// instances included. Each change is reported by several polls, which
	// is harmless: the consent is only read again.
	changeOverlap = 10 * time.Second
	// changeLimit bounds one poll's answer; a poll that reaches it drops
	// the whole cache instead.
	changeLimit = 1000
)

func tokenErr(code, desc string) *Error { return errf(http.StatusUnauthorized, code, desc) }

// Verify checks r's Authorization: DPoP token and DPoP proof (RFC 9449 §7
// and §4.3) and the consent behind them. Errors are *Error with status 401
// and code invalid_token, invalid_dpop_proof or use_dpop_nonce; pass them to
// WriteChallenge. A consent that ended or a suspended partner is
// invalid_token, as RFC 6750 §3.1 has it for revoked tokens.
func (v *Verifier) Verify(r *http.Request) (Access, error) {
	authz := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(authz, " ")
	switch {
	case authz == "" || !strings.EqualFold(scheme, "DPoP") && !strings.EqualFold(scheme, "Bearer"):
		// RFC 6750 §3.1: a request without credentials, or with a scheme
		// this server does not use, gets the bare challenge, no error code.
		return Access{}, &Error{Status: http.StatusUnauthorized}
	case strings.EqualFold(scheme, "Bearer"):
		// RFC 9449 §7.2: a DPoP-bound token is never accepted as a bearer token.
		return Access{}, tokenErr(codeInvalidToken, "this API takes DPoP-bound tokens: Authorization: DPoP <token>")
	case tok == "":
		return Access{}, tokenErr(codeInvalidToken, "an access token is required: Authorization: DPoP <token>")
	}
	now := v.s.now()
	// The token's hash keys the verified-token cache and is what the
	// proof's ath must name (RFC 9449 §4.3 step 11): computed once.
	th := sha256.Sum256([]byte(tok))
	c, err := v.access(tok, th, now)
	if err != nil {
		return Access{}, tokenErr(codeInvalidToken, "the access token is not valid or has expired")
	}
	raw, err := dpopHeader(r)
	if err != nil {
		return Access{}, tokenErr(codeInvalidDPoPProof, err.Error())
	}
	pr, err := v.s.proofs.parse(raw)
	if err != nil {
		return Access{}, tokenErr(codeInvalidDPoPProof, "the DPoP proof is not valid")
	}
	if err := pr.check(proofCheck{method: r.Method, base: v.o.BaseURL, path: r.URL.EscapedPath(), tokenHash: &th, now: now}); err != nil {
		return Access{}, tokenErr(codeInvalidDPoPProof, err.Error())
	}
	if pr.jkt != c.Confirm.JKT { // RFC 9449 §7.1: the proof's key is the token's
		return Access{}, tokenErr(codeInvalidToken, "the DPoP proof is signed by another key than the token is bound to")
	}
	if v.o.RequireNonce && !v.s.validNonce(pr.claims.Nonce, now) {
		e := tokenErr(codeUseDPoPNonce, "use the DPoP-Nonce this response carries")
		e.Nonce = v.s.nonce(now)
		return Access{}, e
	}
	if !v.replay.fresh(replayKey{pr.jkt, pr.claims.JTI}, now) {
		return Access{}, tokenErr(codeInvalidDPoPProof, "the DPoP proof was already used (jti)")
	}
	g, p, err := v.grant(r.Context(), consent.GrantID(c.GrantID), now)
	if err != nil {
		return Access{}, err
	}
	if p.ID != consent.PartnerID(c.ClientID) {
		return Access{}, tokenErr(codeInvalidToken, "the token's client is not the consent's")
	}
	if c.Lookback > 0 && c.Lookback < g.LookbackDays {
		g.LookbackDays = c.Lookback // a refresh narrowed it for this token (RFC 9396 §7)
	}
	return Access{Grant: g, Partner: p, Subject: c.Subject, Scope: c.scope, JKT: pr.jkt, Expires: c.Expiry.Time()}, nil
}

// access returns the claims of the access token tok, whose SHA-256 is key.
// A token whose signature and claims were checked before is taken from the
// cache (keyed by the SHA-256 of the whole token, so a token differing in
// any byte is checked afresh); its expiry is compared with now on every
// call. Only the signature check is saved: a partner calls with the same
// token for its whole life, and that check is the dearest part of a call.
func (v *Verifier) access(tok string, key [sha256.Size]byte, now time.Time) (accessClaims, error) {
	v.tokMu.Lock()
	c, ok := v.tokens[key]
	v.tokMu.Unlock()
	if !ok {
		var err error
		if c, err = v.s.parseAccess(tok); err != nil {
			return accessClaims{}, err
		}
		v.tokMu.Lock()
		if len(v.tokens) >= maxCachedTokens {
			clear(v.tokens) // bound memory; the cache only saves signature checks
		}
		v.tokens[key] = c
		v.tokMu.Unlock()
	} else if ks, err := v.s.keySet(context.Background()); err != nil || ks.verify[c.kid] == nil {
		return accessClaims{}, errors.New("signed by a retired key") // retired since the check was cached
	}
	if !now.Before(c.Expiry.Time()) {
		return accessClaims{}, errors.New("expired")
	}
	return c, nil
}

// grant returns the consent and partner if both are in force at now, from
// the cache when it is fresh. Expiry is compared with the clock on every
// call, cached or not, so a consent stops on the second it ends. Last use
// is recorded at most once a minute per consent per instance.
func (v *Verifier) grant(ctx context.Context, id consent.GrantID, now time.Time) (consent.Grant, consent.Partner, error) {
	v.poll(ctx, now)
	v.mu.Lock()
	e, ok := v.cache[id]
	// Polls cover this moment when the last one started less than CacheTTL
	// ago: every change committed before then has been dropped.
	covered := now.Sub(v.polledAt) < v.o.CacheTTL && !now.Before(v.polledAt)
	polls := v.polls
	v.mu.Unlock()
	fresh := ok && (e.ended || e.polled && covered || now.Sub(e.fetched) < v.o.CacheTTL && !now.Before(e.fetched))
	if !fresh {
		var err error
		if e, err = v.read(ctx, id, now, polls); err != nil {
			return consent.Grant{}, consent.Partner{}, err
		}
	}
	switch {
	case e.err != nil:
		return consent.Grant{}, consent.Partner{}, tokenErr(codeInvalidToken, "the consent behind this token is no longer in force")
	case e.g.Usable(now) != nil:
		return consent.Grant{}, consent.Partner{}, tokenErr(codeInvalidToken, "the consent behind this token has ended")
	}
	if now.Sub(e.touched) >= time.Minute {
		v.mu.Lock()
		e.touched = now
		v.mu.Unlock()
		if err := v.s.d.Consent.Used(ctx, e.g); err != nil {
			v.s.d.Logger.WarnContext(ctx, "oauth: record consent use", "err", err)
		}
	}
	return e.g, e.p, nil
}

// grantRead is a read of a consent in flight (Verifier.reading): e and
// err are set before done is closed.
type grantRead struct {
	started time.Time
	done    chan struct{}
	e       *cachedGrant
	err     error
}

// read reads consent id from the store into the cache, or waits for a
// read of it already in flight that started within CacheTTL of now (as
// good as an entry fetched then): a busy instance whose calls miss the
// cache at once for one consent (at start, or when its entry expires)
// reads it once, not once per call. polls is v.polls before the miss.
func (v *Verifier) read(ctx context.Context, id consent.GrantID, now time.Time, polls uint64) (*cachedGrant, error) {
	v.mu.Lock()
	// A read that started after now is fresher still.
	if r := v.reading[id]; r != nil && now.Sub(r.started) < v.o.CacheTTL {
		v.mu.Unlock()
		select {
		case <-r.done:
			return r.e, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	r := &grantRead{started: now, done: make(chan struct{})}
	v.reading[id] = r
	prev := v.cache[id]
	v.mu.Unlock()
	defer func() {
		v.mu.Lock()
		if v.reading[id] == r {
			delete(v.reading, id)
		}
		v.mu.Unlock()
		close(r.done)
	}()
	g, p, err := v.s.d.Consent.Check(ctx, id)
	if err != nil && !consent.IsEnded(err) && !errors.Is(err, consent.ErrPartnerInactive) && !errors.Is(err, consent.ErrGrantNotFound) {
		r.err = err // the store failing is not the caller's fault
		return nil, err
	}
	ne := &cachedGrant{g: g, p: p, err: err, fetched: now}
	if prev != nil {
		ne.touched = prev.touched
	}
	v.mu.Lock()
	// A poll that completed during the read may have dropped a change
	// the read predates: then this entry lives CacheTTL only, or until a
	// poll started after it completes (see cachedGrant.polled).
	ne.polled, ne.epoch = v.polls == polls, v.pollsStarted
	if len(v.cache) > 100_000 {
		clear(v.cache) // bound memory; the cache only saves reads
		clear(v.unpolled)
	}
	if cur := v.cache[id]; cur != nil && cur.ended {
		ne = cur // ended while we read: the read may predate it
	} else {
		v.cache[id] = ne
		if !ne.polled {
			v.unpolled[id] = struct{}{}
		}
	}
	v.mu.Unlock()
	r.e = ne
	return ne, nil
}

// poll asks the store, at most once per CacheTTL/2 per instance and on one
// call at a time, which consents and partners changed since the last poll
// (with changeOverlap), and drops them from the cache so that their next
// use reads them again. A failed poll changes nothing: once the last good
// one is CacheTTL old, grant reads each consent as if there were no polls.
func (v *Verifier) poll(ctx context.Context, now time.Time) {
	v.mu.Lock()
	due := now.Sub(v.tried) >= v.o.CacheTTL/2 || now.Before(v.tried)
	v.mu.Unlock()
	if !due || !v.pollMu.TryLock() {
		return
	}
	defer v.pollMu.Unlock()
	v.mu.Lock()
	if now.Sub(v.tried) < v.o.CacheTTL/2 && !now.Before(v.tried) {
		v.mu.Unlock()
		return // another call polled meanwhile
	}
	v.tried = now
	since := v.since
	v.pollsStarted++
	seq := v.pollsStarted
	v.mu.Unlock()
	changes, err := v.s.d.Consent.ChangedSince(ctx, since, changeLimit)
	if err != nil {
		if ctx.Err() == nil {
			v.s.d.Logger.WarnContext(ctx, "oauth: poll consent changes", "err", err)
		}
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	stale := func(id consent.GrantID, e *cachedGrant) {
		if !e.ended {
			ne := *e
			ne.fetched, ne.polled = time.Time{}, false // read again on next use, last use kept
			v.cache[id] = &ne
		}
	}
	var grants, partners int
	for _, c := range changes {
		if c.Grant != "" {
			grants++
		} else {
			partners++
		}
	}
	if grants >= changeLimit || partners >= changeLimit {
		for id, e := range v.cache {
			stale(id, e)
		}
	} else {
		// A change is reported by every poll within changeOverlap of it; a
		// copy read after it holds its Updated and is kept.
		var changed map[consent.PartnerID]time.Time
		for _, c := range changes {
			if c.Grant == "" {
				if changed == nil {
					changed = map[consent.PartnerID]time.Time{}
				}
				changed[c.Partner] = c.Updated
			} else if e := v.cache[c.Grant]; e != nil && !e.g.Updated.Equal(c.Updated) {
				stale(c.Grant, e)
			}
		}
		if len(changed) > 0 {
			for id, e := range v.cache {
				if at, ok := changed[e.g.Partner]; ok && !e.p.Updated.Equal(at) {
					stale(id, e)
				}
			}
		}
	}
	// An entry cached before this poll started, and not dropped by it, has
	// had every change since its read reported: it stays while polls run.
	for id := range v.unpolled {
		e := v.cache[id]
		switch {
		case e == nil || e.polled || e.ended || e.fetched.IsZero():
		case e.epoch < seq:
			ne := *e
			ne.polled = true
			v.cache[id] = &ne
		default:
			continue // cached after this poll started: the next one
		}
		delete(v.unpolled, id)
	}
	v.polledAt, v.since = now, now.Add(-changeOverlap)
	v.polls++
}

// ConsentEvent makes a consent that ended on this instance (revoked,
// expired) stop here at once: the event runs on the request that ended it,
// before that request answers, so the partner that revoked its own consent
// is refused from the moment it has the answer. Other instances learn it
// from the store within CacheTTL. Register the Verifier as a consent.Hook.
func (v *Verifier) ConsentEvent(_ context.Context, e consent.Event) {
	if e.Kind != consent.EventRevoked && e.Kind != consent.EventExpired {
		return
	}
	v.mu.Lock()
	v.cache[e.Grant.ID] = &cachedGrant{g: e.Grant, err: consent.ErrGrantRevoked, fetched: v.s.now(), ended: true}
	v.mu.Unlock()
}

var _ consent.Hook = (*Verifier)(nil)

// WriteChallenge answers a failed Verify: 401 with the WWW-Authenticate
// challenge of RFC 9449 §7.1 (and a DPoP-Nonce when one is asked for), or
// 503/500 when the failure was ours.
func (v *Verifier) WriteChallenge(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		writeError(w, errf(http.StatusServiceUnavailable, codeTemporarilyUnavail, "try again shortly"))
		return
	}
	if e.Nonce != "" {
		w.Header().Set("DPoP-Nonce", e.Nonce)
	}
	if e.Code == "" {
		// RFC 6750 §3.1 (and RFC 9449 §7.1): no credentials, no error
		// information; the challenge names the scheme and algorithms only.
		w.Header().Set("WWW-Authenticate", `DPoP algs="PS256 ES256 EdDSA"`)
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(e.Status)
		return
	}
	w.Header().Set("WWW-Authenticate", `DPoP error="`+e.Code+`", error_description="`+strings.ReplaceAll(e.Description, `"`, "'")+`", algs="PS256 ES256 EdDSA"`)
	writeJSON(w, e.Status, map[string]string{"error": e.Code, "error_description": e.Description})
}
