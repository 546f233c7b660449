package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Password reset and change. The reset follows OWASP's Forgot Password
// Cheat Sheet (https://cheatsheetseries.owasp.org/cheatsheets/Forgot_Password_Cheat_Sheet.html,
// "Forgot Password Request" and "URL Tokens"): the same answer whether or
// not the address has an account, a random single-use token stored only
// as its hash, a short expiry, requests limited per account, and every
// session ended once the password changes.

// Defaults of the reset.
const (
	DefaultResetTTL   = 30 * time.Minute // how long a reset link works
	DefaultResetLimit = 3                // resets an account may request per hour
)

// Errors of password change and reset.
var (
	// ErrResetLink answers a reset link that is unknown, used, expired, or
	// for an address the account no longer has: one answer for all.
	ErrResetLink = bankbridge.E(bankbridge.Invalid, "reset_link_invalid", "this reset link does not work any more; ask for a new one")
	// ErrResetThrottled answers a reset asked for too often. Callers that
	// must not reveal whether an address has an account show the same page
	// as for a sent link.
	ErrResetThrottled = bankbridge.E(bankbridge.TooManyRequests, "reset_throttled", "too many reset links were asked for; try again in an hour")
	// ErrPasswordInvalid is a new password that does not meet the rules
	// (Fields say which).
	ErrPasswordInvalid = bankbridge.E(bankbridge.Invalid, "password_invalid", "choose another password")
)

// RequestReset makes a password reset for the account with email in realm
// and returns the token for the link and the address to send it to. An
// unknown address returns ("", "", nil), as if it were sent, so the answer
// does not reveal who banks here; more than DefaultResetLimit requests for
// one account within an hour is ErrResetThrottled.
func (s *Service) RequestReset(ctx context.Context, realm Realm, email string) (token, to string, err error) {
	const op = "identity.RequestReset"
	if !realm.Valid() {
		return "", "", ErrRealm.WithOp(op, nil)
	}
	cred, err := s.store.CredentialByEmail(ctx, realm, NormalizeEmail(email))
	if errors.Is(err, ErrCustomerNotFound) || errors.Is(err, ErrStaffNotFound) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	now := s.now()
	n, err := s.store.ResetsSince(ctx, cred.Principal, now.Add(-time.Hour))
	if err != nil {
		return "", "", err
	}
	if n >= DefaultResetLimit {
		return "", "", ErrResetThrottled.WithOp(op, nil)
	}
	token, err = newToken()
	if err != nil {
		return "", "", err
	}
	hash, _ := TokenHash(token)
	r := Reset{Hash: hash, Principal: cred.Principal, Email: cred.Email, Created: now, Expires: now.Add(DefaultResetTTL)}
	if err := s.store.CreateReset(ctx, r); err != nil {
		return "", "", err
	}
	return token, cred.Email, nil
}

// ResetPassword sets a new password with a reset token and ends every
// session of the account. A new password that breaks the rules is
// ErrPasswordInvalid and leaves the token unused; a token that is not
// one of ours, used, expired, or for an address the account no longer has
// is ErrResetLink.
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	const op = "identity.ResetPassword"
	if fs := passwordFields(password); len(fs) > 0 {
		return invalid(ErrPasswordInvalid, op, fs)
	}
	hash, ok := TokenHash(token)
	if !ok {
		return ErrResetLink.WithOp(op, nil)
	}
	r, err := s.store.UseReset(ctx, hash, s.now())
	if err != nil {
		return err
	}
	cred, err := s.store.Credential(ctx, r.Principal)
	if err != nil {
		return err
	}
	if cred.Email != r.Email {
		return ErrResetLink.WithOp(op, nil)
	}
	return s.setPassword(ctx, op, r.Principal, password)
}

// ChangePassword changes the password of the session's account after
// checking the current one, ends every other session, and returns the
// token of a new session for this browser. A wrong current password is
// ErrBadCredentials and counts towards the lockout; ErrLocked while the
// account is locked; ErrPasswordInvalid for a new password that breaks the
// rules or equals the current one.
func (s *Service) ChangePassword(ctx context.Context, token, current, password string) (string, Session, error) {
	const op = "identity.ChangePassword"
	_, sess, err := s.session(ctx, token)
	if err != nil {
		return "", Session{}, err
	}
	cred, err := s.store.Credential(ctx, sess.Principal())
	if err != nil {
		return "", Session{}, err
	}
	now := s.now()
	if now.Before(cred.LockedUntil) {
		return "", Session{}, lockedError(op, cred.LockedUntil)
	}
	if fs := passwordFields(password); len(fs) > 0 {
		return "", Session{}, invalid(ErrPasswordInvalid, op, fs)
	}
	ok, err := VerifyPassword(cred.PasswordHash, current)
	if err != nil {
		return "", Session{}, fmt.Errorf("%s: %w", op, err)
	}
	if !ok {
		return "", Session{}, s.fail(ctx, op, cred.Principal, now, ErrBadCredentials, false)
	}
	if current == password {
		return "", Session{}, invalid(ErrPasswordInvalid, op, []bankbridge.FieldError{{Pointer: "/password", Detail: "choose a password other than the one you have"}})
	}
	if err := s.setPassword(ctx, op, cred.Principal, password); err != nil {
		return "", Session{}, err
	}
	return s.open(ctx, cred, now)
}

// setPassword stores the new password's hash and ends every session: a
// thief who knew the old password is logged out with it.
func (s *Service) setPassword(ctx context.Context, op string, p Principal, password string) error {
	h, err := HashPassword(password)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := s.store.SetPassword(ctx, p, h); err != nil {
		return err
	}
	_, err = s.store.DeleteSessions(ctx, p)
	return err
}
