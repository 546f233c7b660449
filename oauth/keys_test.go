package oauth

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// testKeys is a key source whose keys a test changes, as a rotation does.
type testKeys struct {
	mu   sync.Mutex
	keys []SigningKey
}

func (k *testKeys) OAuthKeys(context.Context) ([]SigningKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]SigningKey(nil), k.keys...), nil
}

func (k *testKeys) set(keys ...SigningKey) { k.mu.Lock(); k.keys = keys; k.mu.Unlock() }

func testKey(t *testing.T) SigningKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kid, err := thumbprint(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return SigningKey{ID: kid, Key: k}
}

func TestRotationOverlaps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	k1, k2 := testKey(t), testKey(t)
	src := &testKeys{}
	a1 := k1
	a1.Active = true
	src.set(a1, k2) // k2 published before it signs
	s, err := New(ctx, Deps{Consent: consent.New(db.Consent(), consent.Options{}), Issuer: "https://bank.example", Keys: src})
	if err != nil {
		t.Fatal(err)
	}
	now := s.now()
	g := consent.Grant{ID: "g1", Customer: 7, Expires: now.Add(time.Hour)}
	p := consent.Partner{ID: "budgetapp"}
	mint := func() string {
		t.Helper()
		tok, _, err := s.mintAccess(g, p, "jkt", nil, 0, now)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	kidsOf := func() []string {
		set, err := s.JWKS(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, k := range set.Keys {
			ids = append(ids, k.KeyID)
		}
		return ids
	}
	reread := func() { s.ks.Store(nil) } // as after keysTTL

	old := mint()
	v := s.Verifier(VerifierOptions{})
	if _, err := v.access(old, sha256.Sum256([]byte(old)), now); err != nil { // checked once, then cached
		t.Fatalf("Verifier: %v", err)
	}
	if ids := kidsOf(); len(ids) != 2 {
		t.Fatalf("JWKS before the rotation: %v; want the signing key and the next one", ids)
	}
	secret := bytes.Clone(s.secret)

	a2 := k2
	a2.Active = true
	src.set(k1, a2) // the rotation: k2 signs, k1 still verifies
	reread()
	fresh := mint()
	if _, err := s.parseAccess(old); err != nil {
		t.Errorf("a token of the previous key no longer verifies: %v", err)
	}
	if _, err := s.parseAccess(fresh); err != nil {
		t.Errorf("a token of the new key does not verify: %v", err)
	}
	if ks, _ := s.keySet(ctx); ks.kid != k2.ID {
		t.Errorf("signing with %s after the rotation, want %s", ks.kid, k2.ID)
	}
	// Another instance started after the rotation derives the same secret:
	// pairwise subjects and nonces do not change with the key.
	s2, err := New(ctx, Deps{Consent: consent.New(db.Consent(), consent.Options{}), Issuer: "https://bank.example", Keys: src})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(s2.secret, secret) {
		t.Error("the secret changed with the rotation")
	}

	r1 := k1
	r1.Retired = true
	src.set(r1, a2)
	reread()
	if _, err := s.parseAccess(old); err == nil {
		t.Error("a token of a retired key still verifies")
	}
	if _, err := v.access(old, sha256.Sum256([]byte(old)), now); err == nil {
		t.Error("the Verifier's cache still accepts a token of a retired key")
	}
	if ids := kidsOf(); len(ids) != 1 || ids[0] != k2.ID {
		t.Errorf("JWKS after retiring the old key: %v, want only %s", ids, k2.ID)
	}
}
