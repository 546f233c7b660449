package identity

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Attempt is where a login comes from, as the edge sees it.
type Attempt struct {
	// Client is the client's network address, the key of the per-client
	// throttle (an edge counts an IPv6 address by its /64, which one
	// machine can fill). "" means unknown: only the bank-wide budget then
	// applies.
	Client string
	// Device is the device token the browser kept from an earlier
	// successful login (a cookie), "" if none.
	Device string
}

// ClientFailures is how many logins failed from one client address.
type ClientFailures struct {
	Client   string
	Failures int
	Last     time.Time
}

// Device is a browser that logged in to an account before: its token's
// hash, the account, and its own failed attempts since its last success.
type Device struct {
	Principal
	Failures int
	LastUsed time.Time
}

// Guard keeps what login throttling needs in the database, so that every
// instance of a fleet shares it: the failed logins (by client address, and
// so across the bank) and the devices recognised per account.
// Implementations live in store/sqlite and store/postgres and pass
// store/storetest.Guard. Times are kept to the microsecond.
type Guard interface {
	// RecordLoginFailure adds one failed login from client at at.
	RecordLoginFailure(ctx context.Context, client string, at time.Time) error
	// CountLoginFailures counts failed logins at or after since: from
	// client, and from everyone.
	CountLoginFailures(ctx context.Context, client string, since time.Time) (fromClient, total int, err error)
	// LoginFailuresByClient lists the clients with failed logins at or
	// after since, most failures first (then the latest first), at most
	// limit of them.
	LoginFailuresByClient(ctx context.Context, since time.Time, limit int) ([]ClientFailures, error)
	// PurgeLoginFailures deletes the failures before before and returns
	// how many.
	PurgeLoginFailures(ctx context.Context, before time.Time) (int, error)

	// RememberDevice records the device of token hash as p's, used at at,
	// with no failures (a new device, or a known one after a success).
	RememberDevice(ctx context.Context, p Principal, hash []byte, at time.Time) error
	// Device returns the device of token hash; ErrNoDevice if unknown.
	Device(ctx context.Context, hash []byte) (Device, error)
	// DeviceFailed adds one failure to the device of hash atomically;
	// an unknown device is not an error.
	DeviceFailed(ctx context.Context, hash []byte) error
}

// ErrNoDevice is Guard.Device's answer for a token it does not know.
var ErrNoDevice = bankbridge.E(bankbridge.NotFound, "device_unknown", "unknown device")

// ErrThrottled answers a login from a client address with too many recent
// failures: it is refused before the password is checked.
var ErrThrottled = bankbridge.E(bankbridge.TooManyRequests, "login_throttled",
	"too many failed logins from your network; wait a few minutes and try again")

// Throttle is the login policy against guessing and spraying. The zero
// value gives the defaults.
type Throttle struct {
	// Window is the period failures are counted over. Default 10 minutes.
	Window time.Duration
	// ClientLimit is how many failures from one client address in Window
	// refuse its further logins (to any account) until they age out.
	// Default 10: a person mistyping does not reach it; a script trying
	// one password on many customers does, after 10.
	ClientLimit int
	// BankLimit is the bank-wide budget: once this many logins failed in
	// Window across the bank (many addresses spraying), every login from
	// a device the account does not recognise waits BankDelay first.
	// Default 200.
	BankLimit int
	// BankDelay is that wait. Default 2 seconds: nothing for a person,
	// a hundredfold slower spraying for a script that waits for answers.
	BankDelay time.Duration
	// DeviceTTL is how long a device stays recognised after its last
	// successful login. Default 90 days.
	DeviceTTL time.Duration
}

func (t Throttle) withDefaults() Throttle {
	if t.Window <= 0 {
		t.Window = 10 * time.Minute
	}
	if t.ClientLimit <= 0 {
		t.ClientLimit = 10
	}
	if t.BankLimit <= 0 {
		t.BankLimit = 200
	}
	if t.BankDelay <= 0 {
		t.BankDelay = 2 * time.Second
	}
	if t.DeviceTTL <= 0 {
		t.DeviceTTL = 90 * 24 * time.Hour
	}
	return t
}

// Verdict is what Throttle.Decide says of one login attempt before its
// password is checked.
type Verdict struct {
	Refuse error         // non-nil: answer this, check nothing
	Wait   time.Duration // wait this long first
	// IgnoreLock says the account's lock does not apply: the attempt
	// comes from a device the account recognises.
	IgnoreLock bool
}

// Decide is the rule, in one place: a device the account recognises is
// slowed and locked by nothing but its own failures (a stranger can
// neither lock the owner out nor slow them); any other attempt is refused
// when its client address has ClientLimit failures in the window, and
// waits BankDelay while the bank has BankLimit. fromClient and total are
// the failures in the window; client "" is unknown and only the bank-wide
// budget applies to it.
func (t Throttle) Decide(recognised bool, client string, fromClient, total int) Verdict {
	t = t.withDefaults()
	if recognised {
		return Verdict{IgnoreLock: true}
	}
	if client != "" && fromClient >= t.ClientLimit {
		return Verdict{Refuse: ErrThrottled}
	}
	if total >= t.BankLimit {
		return Verdict{Wait: t.BankDelay}
	}
	return Verdict{}
}

// LoginActivity is the failed logins of the last Window, for the staff
// console: the clients failing most, and the bank-wide count and budget.
type LoginActivity struct {
	Window                 time.Duration
	Since                  time.Time
	Clients                []ClientFailures
	Total                  int // failures across the bank in the window
	LastMinute             int // of which in the last minute
	ClientLimit, BankLimit int
}

// Slowed says the bank-wide budget is spent: new devices wait.
func (a LoginActivity) Slowed() bool { return a.Total >= a.BankLimit }

// LoginActivity returns the failed logins of the last window, the top 20
// clients first. ErrNoGuard when the store keeps no failures.
func (s *Service) LoginActivity(ctx context.Context) (LoginActivity, error) {
	if s.guard == nil {
		return LoginActivity{}, ErrNoGuard
	}
	t := s.opts.Throttle.withDefaults()
	now := s.now()
	a := LoginActivity{Window: t.Window, Since: now.Add(-t.Window), ClientLimit: t.ClientLimit, BankLimit: t.BankLimit}
	var err error
	if a.Clients, err = s.guard.LoginFailuresByClient(ctx, a.Since, 20); err != nil {
		return a, err
	}
	if _, a.Total, err = s.guard.CountLoginFailures(ctx, "", a.Since); err != nil {
		return a, err
	}
	_, a.LastMinute, err = s.guard.CountLoginFailures(ctx, "", now.Add(-time.Minute))
	return a, err
}

// ErrNoGuard says the identity store keeps no login failures.
var ErrNoGuard = bankbridge.E(bankbridge.NotFound, "login_activity_unavailable", "login activity is not kept")

// deviceHash is the stored form of a device token: its SHA-256, so that
// the database never holds a token a browser could present.
func deviceHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
