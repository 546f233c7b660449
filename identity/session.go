package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Session is a logged-in customer or member of staff. The token that names
// it is not part of it: only the token's SHA-256 is stored.
type Session struct {
	Realm    Realm
	Customer bankbridge.CustomerID // RealmCustomer
	Staff    bankbridge.StaffID    // RealmStaff
	Role     Role                  // RealmStaff: the staff member's role, read at each lookup
	// CSRF is the per-session anti-CSRF token to embed in forms; compare it
	// with CSRFMatches.
	CSRF      string
	Created   time.Time
	Expires   time.Time // the earlier of the idle expiry and the absolute expiry
	LastSeen  time.Time
	SteppedUp time.Time // zero unless a TOTP step-up (or enrolment) happened in this session
	// TOTPEnrolled reports that the account has an authenticator app, read at
	// each lookup.
	TOTPEnrolled bool
}

// SteppedUpWithin reports whether the session was stepped up with a TOTP
// code no longer than d before now.
func (s Session) SteppedUpWithin(d time.Duration, now time.Time) bool {
	return !s.SteppedUp.IsZero() && !now.Before(s.SteppedUp) && now.Sub(s.SteppedUp) <= d
}

// Principal returns the account the session belongs to.
func (s Session) Principal() Principal {
	if s.Realm == RealmStaff {
		return Principal{Realm: RealmStaff, ID: int64(s.Staff)}
	}
	return Principal{Realm: RealmCustomer, ID: int64(s.Customer)}
}

// CSRFMatches compares a submitted CSRF token with the session's in
// constant time; an empty token never matches.
func (s Session) CSRFMatches(token string) bool {
	return token != "" && s.CSRF != "" && hmacEqual(token, s.CSRF)
}

// LogValue keeps the CSRF token out of logs.
func (s Session) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("realm", string(s.Realm)),
		slog.Int64("customer", int64(s.Customer)),
		slog.Int64("staff", int64(s.Staff)),
		slog.String("role", string(s.Role)),
		slog.Time("expires", s.Expires),
		slog.Bool("stepped_up", !s.SteppedUp.IsZero()),
	)
}

// Token is a session token as handed to the client. The API passes tokens
// as plain strings; wrap one in Token to log it: it prints redacted.
type Token string

// LogValue redacts the token.
func (Token) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String redacts the token, so that %v does not leak it either.
func (Token) String() string { return "[redacted]" }

const tokenBytes = 32

// newToken returns 32 random bytes, base64url without padding.
func newToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("identity: token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// TokenHash returns the SHA-256 of a well-formed token, the key under which
// its session is stored; ok is false for anything that is not one of our
// tokens, which then needs no database round trip.
func TokenHash(token string) (hash []byte, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != tokenBytes {
		return nil, false
	}
	h := sha256.Sum256([]byte(token))
	return h[:], true
}

func hmacEqual(a, b string) bool {
	// Hash both sides first so that the comparison time does not depend on
	// the length of the submitted value either.
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
