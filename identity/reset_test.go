package identity_test

import (
	"errors"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/identity"
)

// TestPasswordReset: an unknown address looks sent; a link works once,
// only within its 30 minutes, not after the account's address changed
// hands; a weak password leaves the link unused; the fourth request in an
// hour is refused; a reset ends every session.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{})
	c := f.customer(t, ann())
	if tok, to, err := f.svc.RequestReset(f.ctx, identity.RealmCustomer, "nobody@example.com"); err != nil || tok != "" || to != "" {
		t.Fatalf("unknown address: %q %q %v; want nothing, no error", tok, to, err)
	}
	sessTok, _, err := f.svc.Login(f.ctx, identity.RealmCustomer, c.Email, password, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, to, err := f.svc.RequestReset(f.ctx, identity.RealmCustomer, " ANN@example.com ")
	if err != nil || tok == "" || to != "ann@example.com" {
		t.Fatalf("RequestReset = %q %q %v", tok, to, err)
	}
	if err := f.svc.ResetPassword(f.ctx, tok, "short"); !errors.Is(err, identity.ErrPasswordInvalid) {
		t.Fatalf("weak password: %v", err)
	}
	if err := f.svc.ResetPassword(f.ctx, tok, "a brand new passphrase"); err != nil {
		t.Fatalf("reset after a refused weak password: %v", err)
	}
	if err := f.svc.ResetPassword(f.ctx, tok, "yet another passphrase"); !errors.Is(err, identity.ErrResetLink) {
		t.Errorf("the link used twice: %v", err)
	}
	if _, err := f.svc.Session(f.ctx, sessTok); err == nil {
		t.Errorf("a session survived the reset")
	}
	if _, _, err := f.svc.Login(f.ctx, identity.RealmCustomer, c.Email, "a brand new passphrase", ""); err != nil {
		t.Errorf("login with the new password: %v", err)
	}
	late, _, err := f.svc.RequestReset(f.ctx, identity.RealmCustomer, c.Email)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(30 * time.Minute)
	if err := f.svc.ResetPassword(f.ctx, late, "a late passphrase"); !errors.Is(err, identity.ErrResetLink) {
		t.Errorf("a 30-minute-old link: %v", err)
	}
	if err := f.svc.ResetPassword(f.ctx, "not-a-token", "a late passphrase"); !errors.Is(err, identity.ErrResetLink) {
		t.Errorf("a made-up link: %v", err)
	}
	if _, _, err := f.svc.RequestReset(f.ctx, identity.RealmCustomer, c.Email); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.RequestReset(f.ctx, identity.RealmCustomer, c.Email); !errors.Is(err, identity.ErrResetThrottled) {
		t.Errorf("the fourth request within the hour: %v", err)
	}
	f.clock.Advance(time.Hour)
	if _, _, err := f.svc.RequestReset(f.ctx, identity.RealmCustomer, c.Email); err != nil {
		t.Errorf("a request an hour later: %v", err)
	}
}

// TestChangePassword: the current password is checked (and a wrong one
// counts towards the lockout); other sessions end; the browser gets a new
// session; the same password again is refused.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{})
	c := f.customer(t, ann())
	here, _, err := f.svc.Login(f.ctx, identity.RealmCustomer, c.Email, password, "")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := f.svc.Login(f.ctx, identity.RealmCustomer, c.Email, password, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.ChangePassword(f.ctx, here, "wrong", "a brand new passphrase"); !errors.Is(err, identity.ErrBadCredentials) {
		t.Errorf("wrong current password: %v", err)
	}
	if _, _, err := f.svc.ChangePassword(f.ctx, here, password, password); !errors.Is(err, identity.ErrPasswordInvalid) {
		t.Errorf("the same password: %v", err)
	}
	fresh, sess, err := f.svc.ChangePassword(f.ctx, here, password, "a brand new passphrase")
	if err != nil || sess.Customer != c.ID {
		t.Fatalf("ChangePassword: %v", err)
	}
	for name, tok := range map[string]string{"this": here, "other": other} {
		if _, err := f.svc.Session(f.ctx, tok); err == nil {
			t.Errorf("the %s browser's old session survived", name)
		}
	}
	if _, err := f.svc.Session(f.ctx, fresh); err != nil {
		t.Errorf("the new session: %v", err)
	}
	for range 4 {
		f.svc.ChangePassword(f.ctx, fresh, "wrong", "whatever passphrase")
	}
	if _, _, err := f.svc.ChangePassword(f.ctx, fresh, "wrong", "whatever passphrase"); !errors.Is(err, identity.ErrLocked) {
		t.Errorf("five wrong current passwords: %v, want ErrLocked", err)
	}
}
