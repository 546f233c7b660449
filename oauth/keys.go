package oauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Keys is where the server gets its ES256 keys. In a fleet it is the
// keyring, so every instance signs with one key and a rotation reaches
// every instance.
type Keys interface {
	// OAuthKeys returns every key, oldest first, retired ones included:
	// exactly one is Active.
	OAuthKeys(ctx context.Context) ([]SigningKey, error)
}

// SigningKey is one of the server's keys.
type SigningKey struct {
	ID      string // kid, the RFC 7638 thumbprint
	Key     *ecdsa.PrivateKey
	Active  bool // it signs tokens now
	Retired bool // tokens it signed no longer verify; left out of the JWKS
}

// memKeys is one key made at New and kept in memory: Deps.Keys's default,
// for tests and a single process that need no restart.
type memKeys []SigningKey

func (m memKeys) OAuthKeys(context.Context) ([]SigningKey, error) { return m, nil }

func newMemKeys() (memKeys, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("oauth: generate key: %w", err)
	}
	kid, err := thumbprint(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return memKeys{{ID: kid, Key: k, Active: true}}, nil
}

// keySet is the keys as the server uses them, read again at most every
// keysTTL so that a request does not wait on the keyring.
type keySet struct {
	read   time.Time
	kid    string // the active key's
	signer jose.Signer
	verify map[string]*ecdsa.PublicKey // unretired keys by kid
	jwks   jose.JSONWebKeySet
}

const keysTTL = time.Second

// keySet returns the current key set. A failed read again keeps the set read
// before, and is logged.
func (s *Server) keySet(ctx context.Context) (*keySet, error) {
	// Wall time, not Deps.Now: it only paces reads of the key source.
	if ks := s.ks.Load(); ks != nil && time.Since(ks.read) < keysTTL {
		return ks, nil
	}
	s.ksMu.Lock()
	defer s.ksMu.Unlock()
	old := s.ks.Load()
	if old != nil && time.Since(old.read) < keysTTL {
		return old, nil
	}
	ks, err := s.readKeys(ctx)
	if err != nil {
		if old == nil {
			return nil, err
		}
		s.d.Logger.Warn("oauth: reading the signing keys failed; using those read before", "err", err)
		c := *old
		c.read = time.Now()
		ks = &c
	}
	s.ks.Store(ks)
	return ks, nil
}

func (s *Server) readKeys(ctx context.Context) (*keySet, error) {
	keys, err := s.d.Keys.OAuthKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("oauth: signing keys: %w", err)
	}
	ks := &keySet{read: time.Now(), verify: map[string]*ecdsa.PublicKey{}, jwks: jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}}
	for _, k := range keys {
		if k.Key == nil || k.Key.Curve != elliptic.P256() {
			return nil, fmt.Errorf("oauth: key %s is not a P-256 private key", k.ID)
		}
		if k.Retired {
			continue
		}
		ks.verify[k.ID] = &k.Key.PublicKey
		// RFC 7517 §5: the set lists every key a token may be signed
		// with, the next one before it signs, so clients caching the JWKS
		// know it in time.
		ks.jwks.Keys = append(ks.jwks.Keys, jose.JSONWebKey{Key: &k.Key.PublicKey, KeyID: k.ID, Algorithm: string(jose.ES256), Use: "sig"})
		if k.Active {
			if ks.signer != nil {
				return nil, errors.New("oauth: more than one active signing key")
			}
			ks.kid = k.ID
			ks.signer, err = jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k.Key, KeyID: k.ID}},
				(&jose.SignerOptions{}).WithType("at+jwt"))
			if err != nil {
				return nil, fmt.Errorf("oauth: signer: %w", err)
			}
		}
	}
	if ks.signer == nil {
		return nil, errors.New("oauth: no active signing key")
	}
	return ks, nil
}

// deriveSecret is the key of DPoP nonces and pairwise subjects, derived from
// the first key ever made (retired or not), so that subjects stay the same
// across rotations and every instance computes the same ones.
func deriveSecret(keys []SigningKey) ([]byte, error) {
	if len(keys) == 0 || keys[0].Key == nil {
		return nil, errors.New("oauth: no signing key")
	}
	d, err := keys[0].Key.Bytes()
	if err != nil {
		return nil, fmt.Errorf("oauth: key bytes: %w", err)
	}
	mac := hmac.New(sha256.New, d)
	mac.Write([]byte("bankbridge oauth secret v1"))
	return mac.Sum(nil), nil
}
