package consent

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"

	"github.com/bankbridge/bankbridge/ledger"
)

// Pseudonyms derives the identifiers partners see for the bank's things:
// HMAC-SHA256(key, kind | partner | internal id), truncated to 128 bits,
// base64url. An id is stable for one partner across its consents and
// tokens, different for every partner, and reveals nothing (not even the
// order of internal ids). It is never decoded: whoever maps a partner's id
// back recomputes the ids of the few things a consent covers and compares.
//
// The authorization server names a consent's accounts with it (the
// resourceId of authorization_details) and the data API names them with it
// (accountId), so a partner sees one id per account everywhere.
type Pseudonyms struct {
	mac []byte
	// keyed is an HMAC already fed its key, cloned for each id (a page of
	// transactions names a hundred): one hash block and four allocations
	// fewer than hmac.New each time. It is never written or summed, so
	// concurrent clones only read it.
	keyed hash.Hash
}

// The kinds of thing named, so that an account id can never be taken for a
// payee id with the same internal number.
const (
	KindAccount   = 'a'
	KindPayee     = 'p'
	KindTxn       = 't'
	KindStatement = 's'
)

// NewPseudonyms derives the id key from secret (at least 32 bytes, from
// IDSecret).
func NewPseudonyms(secret []byte) (*Pseudonyms, error) {
	if len(secret) < 32 {
		return nil, errors.New("consent: the id secret must have at least 32 bytes")
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("bankbridge dataapi ids v1")) // the label ids were first made under; changing it renames everything
	x := &Pseudonyms{mac: m.Sum(nil)}
	x.keyed = hmac.New(sha256.New, x.mac)
	return x, nil
}

// fresh returns an HMAC keyed with the id key, ready for a message.
func (x *Pseudonyms) fresh() hash.Hash {
	if c, ok := x.keyed.(hash.Cloner); ok {
		if h, err := c.Clone(); err == nil {
			return h.(hash.Hash)
		}
	}
	return hmac.New(sha256.New, x.mac)
}

// Of is the partner's id for the internal id n of the given kind; scope
// narrows it further (a transaction as seen from one account), "" for none.
func (x *Pseudonyms) Of(kind byte, partner, scope string, n int64) string {
	m := x.fresh()
	var b [9]byte
	b[0] = kind
	binary.BigEndian.PutUint64(b[1:], uint64(n))
	m.Write(b[:1])
	m.Write([]byte(partner))
	if scope != "" {
		m.Write([]byte("/" + scope))
	}
	m.Write([]byte{0})
	m.Write(b[1:])
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Account is the partner's id for an account.
func (x *Pseudonyms) Account(partner PartnerID, a ledger.AccountID) string {
	return x.Of(KindAccount, string(partner), "", int64(a))
}

// idSecretName is the id secret's name among the stored keys. It kept the
// name it had when only the data API used it, so that ids survive.
const idSecretName = "dataapi-ids-1"

// IDSecret returns the secret partner-facing ids derive from, creating it
// on first use; every instance sharing the store gets the same one. Errors:
// the store's.
func (s *Service) IDSecret(ctx context.Context) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	// The key store keeps text (JWKs in JSON), so the secret goes in base64:
	// PostgreSQL refuses raw bytes that are not UTF-8 in a text column.
	stored, err := s.store.SigningKey(ctx, idSecretName, []byte(base64.StdEncoding.EncodeToString(fresh)), s.Now())
	if err != nil {
		return nil, fmt.Errorf("consent: load id secret: %w", err)
	}
	secret, err := base64.StdEncoding.DecodeString(string(stored))
	if err != nil {
		return nil, fmt.Errorf("consent: stored id secret is not base64: %w", err)
	}
	return secret, nil
}

// Digest is the same keyed digest over msg, base64url of 128 bits: an id
// for something named by the partner's own words (a payment by its
// idempotency key).
func (x *Pseudonyms) Digest(msg string) string {
	m := x.fresh()
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}
