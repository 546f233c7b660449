package oauth_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/oauth"
)

// countingStore counts the reads a Verifier makes of the consent store.
type countingStore struct {
	consent.Store
	grants, polls atomic.Int32
	// slow, when set, holds each read until it is closed; waiting counts
	// the reads held.
	slow    chan struct{}
	waiting atomic.Int32
}

func (s *countingStore) Grant(ctx context.Context, id consent.GrantID) (consent.Grant, error) {
	s.grants.Add(1)
	if s.slow != nil {
		s.waiting.Add(1)
		<-s.slow
	}
	return s.Store.Grant(ctx, id)
}

func (s *countingStore) ChangedSince(ctx context.Context, since time.Time, limit int) ([]consent.Change, error) {
	s.polls.Add(1)
	return s.Store.ChangedSince(ctx, since, limit)
}

// otherInstance serves b's /api2 from a second instance on the same
// database: its own authorization server and Verifier over b's keys,
// reading consents through st.
func otherInstance(t *testing.T, b *bank, st consent.Store) {
	t.Helper()
	cs2 := consent.New(st, consent.Options{Now: b.clock.Now, Accounts: b.accts})
	as2, err := oauth.New(context.Background(), oauth.Deps{Consent: cs2, Issuer: b.issuer, Keys: b.keys, Now: b.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	v2 := as2.Verifier(oauth.VerifierOptions{})
	b.otherMu.Lock()
	defer b.otherMu.Unlock()
	b.otherAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := v2.Verify(r); err != nil {
			v2.WriteChallenge(w, err)
			return
		}
		w.Write([]byte("{}"))
	})
}

// TestRevocationReachesOtherInstance: two instances on one database, each
// with its own authorization server and Verifier over the same keys. The
// second serves a consent for five seconds reading it from the store once,
// with one poll of the changes per half second, not once a second per
// consent; a revocation made on the first instance is refused by the
// second within one second (CacheTTL), over HTTP, on each engine; so are
// a partner's suspension and reinstatement.
func TestRevocationReachesOtherInstance(t *testing.T) {
	t.Parallel()
	for _, engine := range testdb.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			b := newBankOn(t, engine)
			ctx := context.Background()
			st := &countingStore{Store: b.store}
			otherInstance(t, b, st)
			c := b.client
			tok := b.link(c)
			other := func() int {
				t.Helper()
				hc := &http.Client{Transport: &transport{c: c, dpop: c.dpop, token: tok.AccessToken}}
				res, err := hc.Get(b.issuer + "/api2/balances")
				if err != nil {
					t.Fatal(err)
				}
				read(t, res)
				return res.StatusCode
			}
			for range 20 { // five seconds
				if got := other(); got != http.StatusOK {
					t.Fatalf("other instance before revocation: %d", got)
				}
				b.clock.Add(250 * time.Millisecond)
			}
			if g, p := st.grants.Load(), st.polls.Load(); g != 1 || p < 5 || p > 11 {
				t.Errorf("over 5 s of calls the other instance read the consent %d times and polled %d times; want 1 read and about 10 polls", g, p)
			}
			// A partner suspended and reinstated on the first instance.
			if err := b.consents.SuspendPartner(ctx, partner, "test", "staff:1"); err != nil {
				t.Fatal(err)
			}
			b.clock.Add(time.Second)
			if got := other(); got != http.StatusUnauthorized {
				t.Errorf("other instance one second after the partner's suspension: %d, want 401", got)
			}
			if err := b.consents.ReinstatePartner(ctx, partner, "test", "staff:1"); err != nil {
				t.Fatal(err)
			}
			b.clock.Add(time.Second)
			if got := other(); got != http.StatusOK {
				t.Errorf("other instance one second after the reinstatement: %d, want 200", got)
			}
			grantID, _ := tok.Extra("grant_id").(string)
			if _, err := b.consents.Revoke(ctx, consent.GrantID(grantID), "customer", "test"); err != nil {
				t.Fatal(err)
			}
			b.clock.Add(time.Second) // CacheTTL
			if got := other(); got != http.StatusUnauthorized {
				t.Errorf("other instance one second after the revocation: %d, want 401", got)
			}
		})
	}
}

// TestBusyInstanceReadsAConsentOnce: calls that miss the cache at once for
// one consent (a busy instance's start, or the entry's expiry) share one
// read of the store instead of one each, on each engine.
func TestBusyInstanceReadsAConsentOnce(t *testing.T) {
	t.Parallel()
	for _, engine := range testdb.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			b := newBankOn(t, engine)
			st := &countingStore{Store: b.store, slow: make(chan struct{})}
			otherInstance(t, b, st)
			c := b.client
			tok := b.link(c)
			const calls = 16
			codes := make(chan int, calls)
			for range calls {
				go func() {
					hc := &http.Client{Transport: &transport{c: c, dpop: c.dpop, token: tok.AccessToken}}
					res, err := hc.Get(b.issuer + "/api2/balances")
					if err != nil {
						codes <- 0
						return
					}
					res.Body.Close()
					codes <- res.StatusCode
				}()
			}
			// The first read waits until every call has missed the cache.
			deadline := time.Now().Add(10 * time.Second)
			for st.waiting.Load() < 1 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond) // the other calls arrive and wait for it
			close(st.slow)
			for range calls {
				if code := <-codes; code != http.StatusOK {
					t.Errorf("a call: %d, want 200", code)
				}
			}
			if g := st.grants.Load(); g != 1 {
				t.Errorf("%d calls at once read the consent %d times, want 1", calls, g)
			}
		})
	}
}
