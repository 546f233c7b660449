package consent

import (
	"context"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Change is a consent or a partner that changed, and its Updated after the
// change: a copy holding the same Updated already has it.
type Change struct {
	Grant   GrantID   // set for a consent
	Partner PartnerID // set for a partner
	Updated time.Time
}

// Store keeps partners, their history, consents and the authorization
// server's working records. Implementations live in store/sqlite and
// store/postgres and pass one conformance suite (store/storetest.Consent).
//
// Contract common to every method: the Service validates before calling, so
// a Store stores what it is given. Times are kept to the microsecond. Slices
// and maps come back in the order and form they went in (resources ordered
// by account, clusters in Clusters order). Unknown ids answer the NotFound
// error named on each method. Driver errors are wrapped, never shown.
type Store interface {
	// CreatePartner inserts p and its "registered" event in one transaction.
	// ErrPartnerTaken if the id is in use.
	CreatePartner(ctx context.Context, p Partner, ev PartnerEvent) error
	// Partner returns one partner; ErrPartnerNotFound.
	Partner(ctx context.Context, id PartnerID) (Partner, error)
	// Partners lists every partner by id.
	Partners(ctx context.Context) ([]Partner, error)
	// SetPartnerStatus sets the status (and Updated = ev.At) and appends ev,
	// in one transaction; ErrPartnerNotFound.
	SetPartnerStatus(ctx context.Context, id PartnerID, status PartnerStatus, ev PartnerEvent) error
	// ReplacePartnerRedirects sets the partner's redirect URIs to `to` (and
	// Updated = ev.At) and appends ev, in one transaction, only while they
	// are exactly `from`: it reports false, and changes nothing, when they
	// are not (another instance replaced them first, or staff changed them).
	// ErrPartnerNotFound.
	ReplacePartnerRedirects(ctx context.Context, id PartnerID, from, to []string, ev PartnerEvent) (bool, error)
	// PartnerEvents returns a partner's history, oldest first.
	PartnerEvents(ctx context.Context, id PartnerID) ([]PartnerEvent, error)

	// CreateGrant inserts g (its ID set by the caller).
	CreateGrant(ctx context.Context, g Grant) error
	// Grant returns one consent; ErrGrantNotFound.
	Grant(ctx context.Context, id GrantID) (Grant, error)
	// CustomerGrants lists a customer's consents, newest first.
	CustomerGrants(ctx context.Context, c bankbridge.CustomerID) ([]Grant, error)
	// PartnerGrants lists a partner's consents, newest first.
	PartnerGrants(ctx context.Context, p PartnerID) ([]Grant, error)
	// EndGrant moves an ACTIVE consent to status (REVOKED or EXPIRED) with
	// who and why, at the given time, atomically: it reports false, and
	// changes nothing, when the consent was not ACTIVE any more (so that
	// concurrent revocations fire one event). ErrGrantNotFound.
	EndGrant(ctx context.Context, id GrantID, status Status, by, reason string, at time.Time) (bool, error)
	// ExtendGrant sets a new expiry and duration on an ACTIVE consent;
	// reports false when it was not ACTIVE. ErrGrantNotFound.
	ExtendGrant(ctx context.Context, id GrantID, expires time.Time, days int, at time.Time) (bool, error)
	// TouchGrant records the consent's last use.
	TouchGrant(ctx context.Context, id GrantID, at time.Time) error
	// DueGrants lists ACTIVE consents whose expiry is not after now, at most
	// limit of them, for the sweeper.
	DueGrants(ctx context.Context, now time.Time, limit int) ([]Grant, error)
	// ChangedSince lists the consents and then the partners whose Updated
	// is at or after since (created, ended, extended; a partner's status
	// set), at most limit of each, oldest change first within each: what a
	// resource server's cache must read again. A last use (TouchGrant) is
	// not a change.
	ChangedSince(ctx context.Context, since time.Time, limit int) ([]Change, error)

	// SaveRequest stores a pushed authorization request.
	SaveRequest(ctx context.Context, r Request) error
	// Request returns a stored request, expired or not; ErrRequestNotFound.
	Request(ctx context.Context, id string) (Request, error)
	// TakeRequest deletes and returns a request atomically: of concurrent
	// callers exactly one gets it, the others ErrRequestNotFound.
	TakeRequest(ctx context.Context, id string) (Request, error)

	// SaveCode stores an authorization code.
	SaveCode(ctx context.Context, c Code) error
	// UseCode marks partner's code used at `at` and returns it, atomically:
	// exactly one caller succeeds. A code already used answers ErrCodeReused
	// together with the code (so the caller can revoke what it led to); an
	// unknown one ErrCodeNotFound, and so does a code issued to another
	// partner, which stays unused: a stolen code presented by the thief
	// neither spends nor revokes anything.
	UseCode(ctx context.Context, hash []byte, partner PartnerID, at time.Time) (Code, error)

	// SaveRefreshToken stores a refresh token's record.
	SaveRefreshToken(ctx context.Context, t RefreshToken) error
	// RefreshToken returns the record stored under hash; ErrTokenNotFound.
	RefreshToken(ctx context.Context, hash []byte) (RefreshToken, error)

	// UseJTI records a JWT id (scoped by the caller, e.g. "dpop:<jti>") until
	// expires, and reports whether it was new: false is a replay. Expired
	// entries may be purged by the call.
	UseJTI(ctx context.Context, key string, expires, now time.Time) (bool, error)

	// SigningKey returns the authorization server's key stored under name,
	// storing key first if there is none: instances starting together all
	// end up with the same key. The key is a private JWK in JSON.
	SigningKey(ctx context.Context, name string, key []byte, at time.Time) ([]byte, error)
}
