package consent

import (
	"log/slog"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// The records below are the authorization server's working state, kept here
// (and not in package oauth) so that the stores, which must not import HTTP
// code, can implement them beside the grants they lead to. The oauth package
// owns the protocol; these are its durable facts.

// Request is a pushed authorization request (RFC 9126) waiting for the
// customer's decision: what the partner asked for, bound to its PKCE
// challenge and, optionally, its DPoP key. It lives a few minutes.
type Request struct {
	ID            string // random; the request_uri is urn:ietf:params:oauth:request_uri:<ID>
	Partner       PartnerID
	RedirectURI   string
	State         string
	CodeChallenge string // S256 only (FAPI 2.0 §5.3.2.2)
	DPoPJKT       string // dpop_jkt (RFC 9449 §10), "" if none
	// What the partner asks for, from its authorization_details (RFC 9396).
	Clusters     []Cluster
	DurationDays int
	LookbackDays int
	Created      time.Time
	Expires      time.Time
}

// LogValue keeps the PKCE challenge and state out of logs.
func (r Request) LogValue() slog.Value {
	return slog.GroupValue(slog.String("partner", string(r.Partner)), slog.Any("clusters", r.Clusters), slog.Time("expires", r.Expires))
}

// Code is an authorization code: single use, short lived, bound to the
// redirect URI, the PKCE challenge and the consent it leads to. Only the
// SHA-256 of the code is stored.
type Code struct {
	Hash          []byte
	Grant         GrantID
	Partner       PartnerID
	RedirectURI   string
	CodeChallenge string
	DPoPJKT       string
	Expires       time.Time
	Used          time.Time // zero until redeemed
}

// RefreshToken is a refresh token's record: bound to the DPoP key it was
// issued to (RFC 9449 §5) and to one consent, never rotated. Only its
// SHA-256 is stored; it lives as long as the consent.
type RefreshToken struct {
	Hash    []byte
	Grant   GrantID
	Partner PartnerID
	JKT     string // the RFC 7638 thumbprint of the DPoP key
	Created time.Time
}

// Flow errors. Compare with errors.Is.
var (
	ErrRequestNotFound = bankbridge.E(bankbridge.NotFound, "authorization_request_not_found", "the sign-in request has expired or was already used; go back to the app and start again")
	ErrCodeNotFound    = bankbridge.E(bankbridge.NotFound, "authorization_code_not_found", "unknown or expired authorization code")
	ErrCodeReused      = bankbridge.E(bankbridge.Conflict, "authorization_code_reused", "the authorization code was already used")
	ErrTokenNotFound   = bankbridge.E(bankbridge.NotFound, "token_not_found", "unknown token")
)

// NewRequestID returns a fresh random request id (256 bits).
func NewRequestID() string { return newID(32) }

// Decision is the customer's answer on the consent screen to a pushed
// request: approve with a subset of their accounts and a duration, or deny.
type Decision struct {
	Request      string // Request.ID
	Customer     bankbridge.CustomerID
	Approve      bool
	Accounts     []ledger.AccountID // the accounts chosen; each gets every cluster asked for
	DurationDays int                // 1..MaxDays; 0 keeps what the partner asked for
}
