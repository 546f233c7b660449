package identity

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Options configure a Service. The zero value gives working defaults.
type Options struct {
	// Now is the clock; time.Now by default. Tests inject a fake one.
	Now func() time.Time
	// SessionTTL is the idle expiry: a session unused this long ends.
	// Default 30 minutes.
	SessionTTL time.Duration
	// SessionMaxAge is the absolute expiry, however active the session.
	// Default 12 hours.
	SessionMaxAge time.Duration
	// MaxFailures is how many failed attempts lock an account. Default 5.
	MaxFailures int
	// LockBase is the first lock's length, doubled at each further lock
	// (every MaxFailures failures in a row) up to LockMax. Defaults 1
	// minute and 1 hour.
	LockBase, LockMax time.Duration
	// Issuer names the bank in authenticator apps. Default "bankbridge".
	Issuer string
	// Throttle is the policy against guessing and spraying (see
	// Throttle.Decide). The zero value gives the defaults.
	Throttle Throttle
	// Guard keeps failed logins and recognised devices for Throttle. By
	// default the Store, when it implements Guard (both engines' stores
	// do); without one, only the per-account lock applies.
	Guard Guard
	// Sleep waits d or until ctx ends; tests inject one. Default a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// touchEvery bounds how often Session writes a new idle expiry: at most once
// a minute per session, instead of a write on every request.
const touchEvery = time.Minute

// Service is the identity capability: registration, login with lockout,
// sessions and TOTP step-up. It is safe for concurrent use.
type Service struct {
	store Store
	guard Guard
	opts  Options

	dummyOnce sync.Once
	dummy     string // a real hash of nothing, verified for unknown emails
}

// New returns a Service over store.
func New(store Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 30 * time.Minute
	}
	if opts.SessionMaxAge <= 0 {
		opts.SessionMaxAge = 12 * time.Hour
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 5
	}
	if opts.LockBase <= 0 {
		opts.LockBase = time.Minute
	}
	if opts.LockMax <= 0 {
		opts.LockMax = time.Hour
	}
	if opts.Issuer == "" {
		opts.Issuer = "bankbridge"
	}
	if opts.Guard == nil {
		opts.Guard, _ = store.(Guard)
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	return &Service{store: store, guard: opts.Guard, opts: opts}
}

// now is the clock in UTC, to the microsecond the stores keep.
func (s *Service) now() time.Time { return s.opts.Now().UTC().Truncate(time.Microsecond) }

// Store returns the store, for reads the Service does not wrap.
func (s *Service) Store() Store { return s.store }

// RegisterCustomer validates and normalises c, hashes password and stores
// the customer. Errors: ErrCustomerInvalid (with Fields, including
// "/password"), ErrEmailTaken.
func (s *Service) RegisterCustomer(ctx context.Context, c Customer, password string) (Customer, error) {
	const op = "identity.RegisterCustomer"
	now := s.now()
	c = normalizeCustomer(c)
	fs := append(customerFields(c, now, ""), passwordFields(password)...)
	if len(fs) > 0 {
		return Customer{}, invalid(ErrCustomerInvalid, op, fs)
	}
	if c.Since.IsZero() {
		c.Since = now
	}
	hash, err := HashPassword(password)
	if err != nil {
		return Customer{}, fmt.Errorf("%s: %w", op, err)
	}
	return s.store.CreateCustomer(ctx, c, hash)
}

// ImportCustomers validates and stores many customers at once, all with the
// same precomputed passwordHash (from HashPassword), for the demo seed. It
// is all or nothing and returns the customers with IDs assigned in order.
// Errors: ErrCustomerInvalid with Fields such as "/3/email", ErrEmailTaken
// (also for a duplicate inside cs).
func (s *Service) ImportCustomers(ctx context.Context, cs []Customer, passwordHash string) ([]Customer, error) {
	const op = "identity.ImportCustomers"
	if _, _, _, err := parseHash(passwordHash); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	now := s.now()
	out := make([]Customer, len(cs))
	var fs []bankbridge.FieldError
	for i, c := range cs {
		c = normalizeCustomer(c)
		if len(fs) < 100 { // enough to fix a bad file; no need to list a million
			fs = append(fs, customerFields(c, now, fmt.Sprintf("/%d", i))...)
		}
		if c.Since.IsZero() {
			c.Since = now
		}
		out[i] = c
	}
	if len(fs) > 0 {
		return nil, invalid(ErrCustomerInvalid, op, fs)
	}
	return s.store.ImportCustomers(ctx, out, passwordHash)
}

// AddStaff validates and stores a member of staff with a hashed password.
// Errors: ErrStaffInvalid (with Fields), ErrEmailTaken.
func (s *Service) AddStaff(ctx context.Context, st Staff, password string) (Staff, error) {
	const op = "identity.AddStaff"
	st.Email = NormalizeEmail(st.Email)
	st.Name = strings.TrimSpace(st.Name)
	fs := append(staffFields(st), passwordFields(password)...)
	if len(fs) > 0 {
		return Staff{}, invalid(ErrStaffInvalid, op, fs)
	}
	if st.Created.IsZero() {
		st.Created = s.now()
	}
	hash, err := HashPassword(password)
	if err != nil {
		return Staff{}, fmt.Errorf("%s: %w", op, err)
	}
	return s.store.CreateStaff(ctx, st, hash)
}

// Customer returns one customer; ErrCustomerNotFound if unknown.
func (s *Service) Customer(ctx context.Context, id bankbridge.CustomerID) (Customer, error) {
	return s.store.Customer(ctx, id)
}

// Staff returns one member of staff; ErrStaffNotFound if unknown.
func (s *Service) Staff(ctx context.Context, id bankbridge.StaffID) (Staff, error) {
	return s.store.Staff(ctx, id)
}

// dummyHash is a real argon2id hash, verified when the email is unknown so
// that the answer takes about as long as for a wrong password.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() {
		h, err := HashPassword("no such account, no such password")
		if err != nil {
			panic(err) // only crypto/rand failing; nothing works then
		}
		s.dummy = h
	})
	return s.dummy
}

// Login is LoginFrom from an unknown client and device: only the
// bank-wide budget and the per-account lock apply.
func (s *Service) Login(ctx context.Context, realm Realm, email, password, totpCode string) (string, Session, error) {
	token, sess, _, err := s.LoginFrom(ctx, realm, email, password, totpCode, Attempt{})
	return token, sess, err
}

// LoginFrom checks email and password in realm (and the TOTP code if the
// account is enrolled) for an attempt from at, and opens a session. It
// returns the session token, to be kept by the client (a cookie) and never
// logged, the session, and the device token to keep in a long-lived
// cookie, which makes the next login from this browser a recognised one.
//
// Errors: ErrBadCredentials for an unknown email or a wrong password, the
// same for both; ErrThrottled when at's client has too many recent
// failures; ErrLocked while the account is locked (a failure that locks
// it answers ErrLocked at once); ErrTOTPRequired when the password is
// right but the TOTP code is missing or wrong; ErrRealm.
//
// A wrong password or wrong TOTP code counts as a failure; a missing code
// does not (it is the first step of a two-step form). After MaxFailures
// failures the account locks for LockBase, doubling with each further
// failure up to LockMax; only a full success resets the count. The lock
// holds for browsers the account does not recognise only: a recognised
// device (see Throttle.Decide) logs in through it, so strangers cannot
// lock the owner out, and a recognised device with MaxFailures failures
// of its own is recognised no more. An account enrolled in TOTP also
// unlocks with the right password and a right code together.
func (s *Service) LoginFrom(ctx context.Context, realm Realm, email, password, totpCode string, at Attempt) (string, Session, string, error) {
	const op = "identity.Login"
	if !realm.Valid() {
		return "", Session{}, "", ErrRealm.WithOp(op, nil)
	}
	now := s.now()
	cred, err := s.store.CredentialByEmail(ctx, realm, NormalizeEmail(email))
	unknown := errors.Is(err, ErrCustomerNotFound) || errors.Is(err, ErrStaffNotFound)
	if err != nil && !unknown {
		return "", Session{}, "", err
	}
	dev, recognised, err := s.device(ctx, at.Device, cred.Principal, now)
	if err != nil {
		return "", Session{}, "", err
	}
	v, err := s.decide(ctx, recognised && !unknown, at.Client, now)
	if err != nil {
		return "", Session{}, "", err
	}
	if v.Refuse != nil {
		return "", Session{}, "", v.Refuse.(*bankbridge.Error).WithOp(op, nil)
	}
	if v.Wait > 0 {
		if err := s.opts.Sleep(ctx, v.Wait); err != nil {
			return "", Session{}, "", err
		}
	}
	if unknown {
		VerifyPassword(s.dummyHash(), password)
		return "", Session{}, "", s.failed(ctx, op, at, nil, now, ErrBadCredentials)
	}
	locked := now.Before(cred.LockedUntil) && !v.IgnoreLock
	if locked && (cred.TOTPSecret == "" || totpCode == "") {
		// Locked, and no second factor offered to unlock with: the
		// password is not even checked, so the lock stops guessing.
		return "", Session{}, "", lockedError(op, cred.LockedUntil)
	}
	ok, err := VerifyPassword(cred.PasswordHash, password)
	if err != nil {
		return "", Session{}, "", fmt.Errorf("%s: %w", op, err)
	}
	if !ok {
		if locked {
			// The same answer as for a wrong code: a locked account tells
			// nothing about its password.
			return "", Session{}, "", s.failed(ctx, op, at, dev, now, lockedError(op, cred.LockedUntil))
		}
		return "", Session{}, "", s.failed(ctx, op, at, dev, now, s.fail(ctx, op, cred.Principal, now, ErrBadCredentials, recognised))
	}
	if cred.TOTPSecret != "" {
		if totpCode == "" {
			return "", Session{}, "", ErrTOTPRequired.WithOp(op, nil)
		}
		if err := s.useCode(ctx, cred, totpCode, now); err != nil {
			if !errors.Is(err, ErrBadCode) {
				return "", Session{}, "", err
			}
			if locked {
				return "", Session{}, "", s.failed(ctx, op, at, dev, now, lockedError(op, cred.LockedUntil))
			}
			return "", Session{}, "", s.failed(ctx, op, at, dev, now, s.fail(ctx, op, cred.Principal, now, ErrTOTPRequired, recognised))
		}
	}
	if cred.Failures > 0 || !cred.LockedUntil.IsZero() {
		if err := s.store.ResetFailures(ctx, cred.Principal); err != nil {
			return "", Session{}, "", err
		}
	}
	device, err := s.remember(ctx, cred.Principal, at.Device, recognised, now)
	if err != nil {
		return "", Session{}, "", err
	}
	token, sess, err := s.open(ctx, cred, now)
	return token, sess, device, err
}

// device looks up the device token of an attempt: recognised when it is
// p's, used within DeviceTTL, with fewer than MaxFailures failures of its
// own. It returns the token's hash when the device is p's (for counting
// its failures).
func (s *Service) device(ctx context.Context, token string, p Principal, now time.Time) ([]byte, bool, error) {
	if s.guard == nil || token == "" {
		return nil, false, nil
	}
	h := deviceHash(token)
	d, err := s.guard.Device(ctx, h)
	if errors.Is(err, ErrNoDevice) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if d.Principal != p {
		return nil, false, nil
	}
	ttl := s.opts.Throttle.withDefaults().DeviceTTL
	return h, d.Failures < s.opts.MaxFailures && now.Sub(d.LastUsed) < ttl, nil
}

// decide reads the failure counts and applies Throttle.Decide.
func (s *Service) decide(ctx context.Context, recognised bool, client string, now time.Time) (Verdict, error) {
	t := s.opts.Throttle
	if s.guard == nil || recognised {
		return t.Decide(recognised, client, 0, 0), nil
	}
	fromClient, total, err := s.guard.CountLoginFailures(ctx, client, now.Add(-t.withDefaults().Window))
	if err != nil {
		return Verdict{}, err
	}
	return t.Decide(false, client, fromClient, total), nil
}

// failed records a failed login from at (and against its device, if the
// device is the account's) and returns answer.
func (s *Service) failed(ctx context.Context, op string, at Attempt, dev []byte, now time.Time, answer error) error {
	if s.guard == nil {
		return answer
	}
	if err := s.guard.RecordLoginFailure(ctx, at.Client, now); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if dev != nil {
		if err := s.guard.DeviceFailed(ctx, dev); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	// Now and then, forget failures nobody counts any more.
	if now.UnixMicro()&0xff == 0 {
		if _, err := s.guard.PurgeLoginFailures(ctx, now.Add(-24*time.Hour)); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	return answer
}

// remember records the device of a successful login and returns the token
// for the edge to keep: the same one for a device already the account's,
// a new one otherwise.
func (s *Service) remember(ctx context.Context, p Principal, token string, recognised bool, now time.Time) (string, error) {
	if s.guard == nil {
		return "", nil
	}
	if !recognised || token == "" {
		t, err := newToken()
		if err != nil {
			return "", err
		}
		token = t
	}
	return token, s.guard.RememberDevice(ctx, p, deviceHash(token), now)
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fail counts a failed attempt on p and locks the account when the count
// reaches MaxFailures; it returns the error to answer: answer, or ErrLocked
// if this failure locked the account.
func (s *Service) fail(ctx context.Context, op string, p Principal, now time.Time, answer *bankbridge.Error, recognised bool) error {
	n, err := s.store.RecordFailure(ctx, p)
	if err != nil {
		return err
	}
	if n < s.opts.MaxFailures || n%s.opts.MaxFailures != 0 {
		// Below the limit, or a fresh round of tries after a lock ended:
		// each wrong password after a lock does not lock again at once.
		return answer.WithOp(op, nil)
	}
	until := now.Add(s.lockFor(n))
	if err := s.store.LockUntil(ctx, p, until); err != nil {
		return err
	}
	if recognised {
		// The lock is for other browsers: this one keeps its own count
		// (Guard.DeviceFailed) and is answered as it asked.
		return answer.WithOp(op, nil)
	}
	return lockedError(op, until)
}

// lockFor is the lock after the n-th consecutive failure, n a multiple of
// MaxFailures: LockBase for the first lock, doubled for each lock after,
// at most LockMax.
func (s *Service) lockFor(n int) time.Duration {
	d := s.opts.LockBase
	for i := 2 * s.opts.MaxFailures; i <= n && d < s.opts.LockMax; i += s.opts.MaxFailures {
		d *= 2
	}
	return min(d, s.opts.LockMax)
}

// Locked is ErrLocked with the end of the lock, so the page can say when
// to try again. errors.Is(err, ErrLocked) holds for it; LockedUntil reads
// the time back.
type Locked struct {
	Err   *bankbridge.Error
	Until time.Time
}

func (e *Locked) Error() string { return e.Err.Error() }

// Unwrap exposes the *bankbridge.Error for errors.Is and errors.As.
func (e *Locked) Unwrap() error { return e.Err }

func lockedError(op string, until time.Time) error {
	return &Locked{Err: ErrLocked.WithOp(op, nil), Until: until.UTC()}
}

// LockedUntil returns when the lock that err reports ends, if err is an
// ErrLocked that knows (every ErrLocked from Login and StepUp does).
func LockedUntil(err error) (time.Time, bool) {
	var l *Locked
	if errors.As(err, &l) && !l.Until.IsZero() {
		return l.Until, true
	}
	return time.Time{}, false
}

// useCode accepts code for cred's enrolled secret at now: it must match a
// step within the skew and be later than the last step used. ErrBadCode
// otherwise.
func (s *Service) useCode(ctx context.Context, cred Credential, code string, now time.Time) error {
	step, ok := matchTOTP(cred.TOTPSecret, code, now)
	if !ok {
		return ErrBadCode
	}
	fresh, err := s.store.UseTOTPStep(ctx, cred.Principal, step)
	if err != nil {
		return err
	}
	if !fresh {
		return ErrBadCode // replay of a code already used (RFC 6238 §5.2)
	}
	return nil
}

// open creates a session for cred.
func (s *Service) open(ctx context.Context, cred Credential, now time.Time) (string, Session, error) {
	token, err := newToken()
	if err != nil {
		return "", Session{}, err
	}
	csrf, err := newToken()
	if err != nil {
		return "", Session{}, err
	}
	sess := Session{
		Realm:        cred.Realm,
		CSRF:         csrf,
		Created:      now,
		LastSeen:     now,
		Expires:      s.expiry(now, now),
		TOTPEnrolled: cred.TOTPSecret != "",
	}
	switch cred.Realm {
	case RealmCustomer:
		sess.Customer = bankbridge.CustomerID(cred.ID)
	case RealmStaff:
		sess.Staff = bankbridge.StaffID(cred.ID)
		st, err := s.store.Staff(ctx, sess.Staff)
		if err != nil {
			return "", Session{}, err
		}
		sess.Role = st.Role
	}
	hash, _ := TokenHash(token)
	if err := s.store.CreateSession(ctx, hash, sess); err != nil {
		return "", Session{}, err
	}
	return token, sess, nil
}

// expiry is the earlier of the idle and the absolute expiry.
func (s *Service) expiry(created, lastSeen time.Time) time.Time {
	idle, abs := lastSeen.Add(s.opts.SessionTTL), created.Add(s.opts.SessionMaxAge)
	if abs.Before(idle) {
		return abs
	}
	return idle
}

// Session returns the live session named by token and slides its idle
// expiry. ErrNoSession if the token is unknown, malformed or expired (an
// expired session is deleted).
func (s *Service) Session(ctx context.Context, token string) (Session, error) {
	_, sess, err := s.session(ctx, token)
	return sess, err
}

func (s *Service) session(ctx context.Context, token string) ([]byte, Session, error) {
	const op = "identity.Session"
	hash, ok := TokenHash(token)
	if !ok {
		return nil, Session{}, ErrNoSession.WithOp(op, nil)
	}
	sess, err := s.store.Session(ctx, hash)
	if err != nil {
		return nil, Session{}, err
	}
	now := s.now()
	if !now.Before(sess.Expires) {
		if err := s.store.DeleteSession(ctx, hash); err != nil {
			return nil, Session{}, err
		}
		return nil, Session{}, ErrNoSession.WithOp(op, nil)
	}
	if now.Sub(sess.LastSeen) >= touchEvery {
		exp := s.expiry(sess.Created, now)
		if err := s.store.TouchSession(ctx, hash, now, exp); err != nil {
			return nil, Session{}, err
		}
		sess.LastSeen, sess.Expires = now, exp
	}
	return hash, sess, nil
}

// Logout ends the session named by token. Logging out of a session that is
// unknown or already ended is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	hash, ok := TokenHash(token)
	if !ok {
		return nil
	}
	return s.store.DeleteSession(ctx, hash)
}

// LogoutEverywhere ends every session of the session's account (after a
// password change, or when staff freeze access).
func (s *Service) LogoutEverywhere(ctx context.Context, p Principal) (int, error) {
	return s.store.DeleteSessions(ctx, p)
}

// PurgeSessions deletes expired sessions, for a periodic janitor.
func (s *Service) PurgeSessions(ctx context.Context) (int, error) {
	return s.store.DeleteExpiredSessions(ctx, s.now())
}

// BeginTOTP starts enrolling an authenticator app for the session's account:
// it creates a secret, keeps it pending, and returns it with an otpauth://
// URL to show as a QR code. Errors: ErrNoSession, ErrTOTPEnrolled.
func (s *Service) BeginTOTP(ctx context.Context, token string) (secret, otpauthURL string, err error) {
	const op = "identity.BeginTOTP"
	_, sess, err := s.session(ctx, token)
	if err != nil {
		return "", "", err
	}
	cred, err := s.store.Credential(ctx, sess.Principal())
	if err != nil {
		return "", "", err
	}
	if cred.TOTPSecret != "" {
		return "", "", ErrTOTPEnrolled.WithOp(op, nil)
	}
	secret, err = newTOTPSecret()
	if err != nil {
		return "", "", err
	}
	if err := s.store.SetTOTPPending(ctx, cred.Principal, secret); err != nil {
		return "", "", err
	}
	return secret, keyURI(s.opts.Issuer, cred.Email, secret), nil
}

// ConfirmTOTP finishes enrolment with a code from the app: the pending
// secret becomes the account's, and the session counts as stepped up.
// Errors: ErrNoSession, ErrTOTPNotBegun, ErrTOTPEnrolled, ErrBadCode.
func (s *Service) ConfirmTOTP(ctx context.Context, token, code string) error {
	const op = "identity.ConfirmTOTP"
	hash, sess, err := s.session(ctx, token)
	if err != nil {
		return err
	}
	cred, err := s.store.Credential(ctx, sess.Principal())
	if err != nil {
		return err
	}
	switch {
	case cred.TOTPSecret != "":
		return ErrTOTPEnrolled.WithOp(op, nil)
	case cred.TOTPPending == "":
		return ErrTOTPNotBegun.WithOp(op, nil)
	}
	now := s.now()
	step, ok := matchTOTP(cred.TOTPPending, code, now)
	if !ok {
		return ErrBadCode.WithOp(op, nil)
	}
	if err := s.store.EnableTOTP(ctx, cred.Principal, cred.TOTPPending, step); err != nil {
		return err
	}
	return s.store.StepUpSession(ctx, hash, now)
}

// StepUp checks a TOTP code for the session's account and marks the session
// stepped up now (see Session.SteppedUpWithin). A wrong code counts as a
// failed attempt towards the lockout. Errors: ErrNoSession,
// ErrTOTPNotEnrolled, ErrLocked, ErrBadCode.
func (s *Service) StepUp(ctx context.Context, token, code string) error {
	const op = "identity.StepUp"
	hash, sess, err := s.session(ctx, token)
	if err != nil {
		return err
	}
	cred, err := s.store.Credential(ctx, sess.Principal())
	if err != nil {
		return err
	}
	if cred.TOTPSecret == "" {
		return ErrTOTPNotEnrolled.WithOp(op, nil)
	}
	now := s.now()
	if now.Before(cred.LockedUntil) {
		return lockedError(op, cred.LockedUntil)
	}
	if err := s.useCode(ctx, cred, code, now); err != nil {
		if errors.Is(err, ErrBadCode) {
			return s.fail(ctx, op, cred.Principal, now, ErrBadCode, false)
		}
		return err
	}
	if cred.Failures > 0 {
		if err := s.store.ResetFailures(ctx, cred.Principal); err != nil {
			return err
		}
	}
	return s.store.StepUpSession(ctx, hash, now)
}
