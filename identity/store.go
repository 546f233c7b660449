package identity

import (
	"context"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Principal names one account that can log in: a customer or a member of
// staff, by realm and id.
type Principal struct {
	Realm Realm
	ID    int64 // a bankbridge.CustomerID or bankbridge.StaffID, per Realm
}

// Credential is what the Service needs to authenticate a principal. It holds
// the password hash and the TOTP secret: it must never be logged or shown.
type Credential struct {
	Principal
	Email        string
	PasswordHash string    // argon2id PHC string
	Failures     int       // failed attempts since the last success
	LockedUntil  time.Time // zero, or the end of the current lock
	TOTPSecret   string    // base32; "" until enrolled
	TOTPPending  string    // base32; set by BeginTOTP, cleared by EnableTOTP
	TOTPLastStep int64     // the last RFC 6238 time step accepted; 0 if none
}

// Store keeps customers, staff, their credentials and sessions.
// Implementations live in store/sqlite and store/postgres and pass the same
// conformance suite (store/storetest.Identity).
//
// Contract common to every method: the Service normalises and validates
// before calling, so a Store stores what it is given; emails arrive
// normalised and are compared exactly. An unknown customer is
// ErrCustomerNotFound, an unknown member of staff ErrStaffNotFound (for a
// Principal of that realm too); a realm that is neither is ErrRealm. A taken
// email is ErrEmailTaken, recognised by the driver's error code and
// constraint, never by text. Other driver errors are wrapped and never shown
// to users. Times are kept to the microsecond.
type Store interface {
	// CreateCustomer inserts c (its ID ignored) with the password hash and
	// returns it with its new ID.
	CreateCustomer(ctx context.Context, c Customer, passwordHash string) (Customer, error)
	// ImportCustomers inserts every customer of cs, all with the same
	// password hash, in one transaction: all or nothing. It returns them with
	// IDs assigned in increasing order of their position in cs. It must be a
	// bulk insert (multi-row INSERTs, COPY): the demo seed imports a million.
	ImportCustomers(ctx context.Context, cs []Customer, passwordHash string) ([]Customer, error)
	// Customer returns one customer.
	Customer(ctx context.Context, id bankbridge.CustomerID) (Customer, error)

	// CreateStaff inserts st (its ID ignored) and returns it with its new ID.
	CreateStaff(ctx context.Context, st Staff, passwordHash string) (Staff, error)
	// Staff returns one member of staff.
	Staff(ctx context.Context, id bankbridge.StaffID) (Staff, error)

	// CredentialByEmail returns the credential of the account with that
	// email in realm.
	CredentialByEmail(ctx context.Context, realm Realm, email string) (Credential, error)
	// Credential returns the credential of p.
	Credential(ctx context.Context, p Principal) (Credential, error)
	// RecordFailure adds one failed attempt to p atomically (concurrent
	// failures are all counted) and returns the new count.
	RecordFailure(ctx context.Context, p Principal) (failures int, err error)
	// LockUntil sets the end of p's lock.
	LockUntil(ctx context.Context, p Principal, until time.Time) error
	// ResetFailures sets p's failure count to zero and lifts any lock.
	ResetFailures(ctx context.Context, p Principal) error

	// SetTOTPPending stores a secret being enrolled, replacing any other
	// pending one; the enrolled secret, if any, is untouched.
	SetTOTPPending(ctx context.Context, p Principal, secret string) error
	// EnableTOTP makes secret p's enrolled secret, clears the pending one and
	// records step as the last step used.
	EnableTOTP(ctx context.Context, p Principal, secret string, step int64) error
	// UseTOTPStep records step as used if it is later than the last step
	// used, atomically, and reports whether it was: false means a replay
	// (RFC 6238 §5.2), even under concurrent calls with the same step.
	UseTOTPStep(ctx context.Context, p Principal, step int64) (bool, error)

	// CreateSession stores s under the SHA-256 hash of its token. Role and
	// TOTPEnrolled are not stored: Session reads them from the account.
	CreateSession(ctx context.Context, hash []byte, s Session) error
	// Session returns the session stored under hash, with Role and
	// TOTPEnrolled read from its account at this moment; ErrNoSession if
	// there is none. It does not check expiry: the Service does.
	Session(ctx context.Context, hash []byte) (Session, error)
	// TouchSession records activity: new LastSeen and Expires. ErrNoSession
	// if there is none.
	TouchSession(ctx context.Context, hash []byte, lastSeen, expires time.Time) error
	// StepUpSession sets SteppedUp. ErrNoSession if there is none.
	StepUpSession(ctx context.Context, hash []byte, at time.Time) error
	// DeleteSession deletes one session; deleting none is not an error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteSessions deletes every session of p and returns how many.
	DeleteSessions(ctx context.Context, p Principal) (int, error)
	// DeleteExpiredSessions deletes sessions whose Expires is not after now
	// and returns how many.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)

	// SetPassword replaces p's password hash and clears its failures and
	// lock.
	SetPassword(ctx context.Context, p Principal, hash string) error
	// CreateReset stores a password reset under the SHA-256 of its token
	// (the token itself is never stored).
	CreateReset(ctx context.Context, r Reset) error
	// ResetsSince counts the resets of p created at or after since (the
	// rate limit).
	ResetsSince(ctx context.Context, p Principal, since time.Time) (int, error)
	// UseReset marks the reset stored under hash used at now and returns
	// it, atomically: of two concurrent uses one wins. ErrResetLink if
	// there is none, it was used, or it expired at or before now.
	UseReset(ctx context.Context, hash []byte, now time.Time) (Reset, error)
}

// Reset is a password reset sent by e-mail: single use, short-lived, bound
// to the address it was sent to.
type Reset struct {
	Hash []byte // SHA-256 of the token
	Principal
	Email   string // the address the link went to, normalised
	Created time.Time
	Expires time.Time
	Used    time.Time // zero until used
}
