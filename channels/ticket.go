package channels

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Tickets signs short-lived, self-contained tickets that name a platform
// user: a link button's ticket, an OAuth state. Nothing is stored, so any
// instance of a fleet configured alike opens what another signed.
type Tickets struct {
	key []byte
	now func() time.Time
}

// NewTickets derives the signing key from the platform's secret (HKDF-SHA256
// with label), so that no other key is kept.
func NewTickets(secret, label string, now func() time.Time) *Tickets {
	k, err := hkdf.Key(sha256.New, []byte(secret), nil, "bankbridge tickets "+label, 32)
	if err != nil {
		panic("channels: hkdf: " + err.Error()) // only for an invalid length
	}
	if now == nil {
		now = time.Now
	}
	return &Tickets{key: k, now: now}
}

// Sign returns a ticket for (purpose, subject) valid for ttl: base64url of
// the subject, the expiry (8 bytes) and 16 bytes of HMAC-SHA256 over the
// purpose and both.
func (t *Tickets) Sign(purpose, subject string, ttl time.Duration) string {
	b := append([]byte(subject), make([]byte, 8)...)
	binary.BigEndian.PutUint64(b[len(subject):], uint64(t.now().Add(ttl).Unix()))
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(append(b, m.Sum(nil)[:16]...))
}

// Open returns the subject of a ticket of purpose that is genuine and not
// expired.
func (t *Tickets) Open(purpose, ticket string) (string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(ticket)
	if err != nil || len(b) < 24 || len(b) > 24+256 {
		return "", false
	}
	body, mac := b[:len(b)-16], b[len(b)-16:]
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(body)
	if !hmac.Equal(m.Sum(nil)[:16], mac) {
		return "", false
	}
	n := len(body) - 8
	if t.now().Unix() > int64(binary.BigEndian.Uint64(body[n:])) {
		return "", false
	}
	return string(body[:n]), true
}
