package identity_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/identity"
)

func TestThrottleDecide(t *testing.T) {
	t.Parallel()
	th := identity.Throttle{ClientLimit: 10, BankLimit: 100, BankDelay: 2 * time.Second}
	tests := []struct {
		name        string
		recognised  bool
		client      string
		from, total int
		refuse      bool
		wait        time.Duration
		ignoreLock  bool
	}{
		{"QuietClientGoesAhead", false, "203.0.113.1", 3, 20, false, 0, false},
		{"ClientAtItsLimitIsRefused", false, "203.0.113.1", 10, 20, true, 0, false},
		{"UnknownClientIsNotRefusedByAddress", false, "", 50, 60, false, 0, false},
		{"BankOverBudgetSlowsNewDevices", false, "203.0.113.1", 0, 100, false, 2 * time.Second, false},
		{"RecognisedDeviceIgnoresEverything", true, "203.0.113.1", 50, 5000, false, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := th.Decide(tt.recognised, tt.client, tt.from, tt.total)
			if (v.Refuse != nil) != tt.refuse || v.Wait != tt.wait || v.IgnoreLock != tt.ignoreLock {
				t.Errorf("Decide = %+v, want refuse %v wait %v ignoreLock %v", v, tt.refuse, tt.wait, tt.ignoreLock)
			}
		})
	}
}

// sleeps records the waits the Service asks for, instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) Sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func (s *sleeps) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.d) }

// TestLoginSprayingIsThrottledPerClient: one client trying one wrong
// password on many customers is refused after ClientLimit failures, for
// every account and before any password is checked (even the right one);
// another client is not affected, and the refusal ages out.
func TestLoginSprayingIsThrottledPerClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{Throttle: identity.Throttle{ClientLimit: 5, Window: 10 * time.Minute}})
	for i := range 7 {
		c := ann()
		c.Email = fmt.Sprintf("c%d@example.com", i)
		f.customer(t, c)
	}
	spray := identity.Attempt{Client: "203.0.113.7"}
	for i := range 5 {
		_, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, fmt.Sprintf("c%d@example.com", i), "Winter2026!", "", spray)
		if !errors.Is(err, identity.ErrBadCredentials) {
			t.Fatalf("attempt %d: %v, want ErrBadCredentials", i, err)
		}
	}
	if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "c5@example.com", password, "", spray); !errors.Is(err, identity.ErrThrottled) {
		t.Fatalf("6th attempt from the spraying client: %v, want ErrThrottled even with the right password", err)
	}
	if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "c5@example.com", password, "", identity.Attempt{Client: "198.51.100.2"}); err != nil {
		t.Fatalf("another client: %v", err)
	}
	f.clock.Advance(11 * time.Minute)
	if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "c6@example.com", password, "", spray); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// TestLoginStrangerCannotLockOutOwner: failures from strangers lock the
// account for browsers it does not know, but the owner's recognised
// device logs in at once; an unrecognised owner unlocks with password and
// TOTP code together.
func TestLoginStrangerCannotLockOutOwner(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{MaxFailures: 3})
	f.customer(t, ann())
	home := identity.Attempt{Client: "192.0.2.10"}
	_, _, device, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", password, "", home)
	if err != nil || device == "" {
		t.Fatalf("first login: device %q, %v", device, err)
	}
	for i := range 4 {
		_, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", "guess", "", identity.Attempt{Client: fmt.Sprintf("203.0.113.%d", i)})
		if i >= 2 && !errors.Is(err, identity.ErrLocked) {
			t.Fatalf("stranger's failure %d: %v, want ErrLocked", i+1, err)
		}
	}
	if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", password, "", identity.Attempt{Client: "192.0.2.99"}); !errors.Is(err, identity.ErrLocked) {
		t.Fatalf("right password from a new browser while locked: %v, want ErrLocked", err)
	}
	home.Device = device
	_, _, again, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", password, "", home)
	if err != nil {
		t.Fatalf("owner's recognised device while strangers locked the account: %v", err)
	}
	if again != device {
		t.Errorf("the recognised device got a new token %q, want %q kept", again, device)
	}
}

// TestLoginLockLiftsWithTOTP: an unrecognised browser unlocks a locked
// account with the right password and a right code together; a wrong
// code or password while locked answers ErrLocked, telling nothing.
func TestLoginLockLiftsWithTOTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{MaxFailures: 3})
	f.customer(t, ann())
	tok, _, err := f.svc.Login(f.ctx, identity.RealmCustomer, "ann@example.com", password, "")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := f.svc.BeginTOTP(f.ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.ConfirmTOTP(f.ctx, tok, identity.TOTPCode(secret, f.clock.Now())); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Minute)
	for range 3 {
		f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", "guess", "", identity.Attempt{Client: "203.0.113.5"})
	}
	newBrowser := identity.Attempt{Client: "192.0.2.20"}
	if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", password, "", newBrowser); !errors.Is(err, identity.ErrLocked) {
		t.Fatalf("locked, no code: %v, want ErrLocked", err)
	}
	if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", "guess", identity.TOTPCode(secret, f.clock.Now()), newBrowser); !errors.Is(err, identity.ErrLocked) {
		t.Fatalf("locked, wrong password with a right code: %v, want ErrLocked", err)
	}
	f.clock.Advance(30 * time.Second)
	if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", password, "000000", newBrowser); !errors.Is(err, identity.ErrLocked) {
		t.Fatalf("locked, right password with a wrong code: %v, want ErrLocked", err)
	}
	if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", password, identity.TOTPCode(secret, f.clock.Now()), newBrowser); err != nil {
		t.Fatalf("locked, right password and code: %v, want the lock lifted", err)
	}
}

// TestLoginBankBudgetSlowsNewDevicesOnly: once the bank-wide failures
// reach BankLimit (spraying from many addresses), an unrecognised browser
// waits BankDelay; a recognised device does not.
func TestLoginBankBudgetSlowsNewDevicesOnly(t *testing.T) {
	t.Parallel()
	sl := &sleeps{}
	f := newFixture(t, identity.Options{Sleep: sl.Sleep, Throttle: identity.Throttle{BankLimit: 4, BankDelay: 3 * time.Second}})
	f.customer(t, ann())
	_, _, device, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", password, "", identity.Attempt{Client: "192.0.2.10"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		f.svc.LoginFrom(f.ctx, identity.RealmCustomer, fmt.Sprintf("nobody%d@example.com", i), "guess", "", identity.Attempt{Client: fmt.Sprintf("203.0.113.%d", i)})
	}
	if n := sl.count(); n != 0 {
		t.Fatalf("%d waits under the budget, want none", n)
	}
	if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", password, "", identity.Attempt{Client: "192.0.2.10", Device: device}); err != nil || sl.count() != 0 {
		t.Fatalf("recognised device over the budget: %v, %d waits; want no wait", err, sl.count())
	}
	if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", password, "", identity.Attempt{Client: "192.0.2.30"}); err != nil {
		t.Fatal(err)
	}
	if sl.count() != 1 || sl.d[0] != 3*time.Second {
		t.Fatalf("new browser over the budget waited %v, want one wait of 3s", sl.d)
	}
	a, err := f.svc.LoginActivity(f.ctx)
	if err != nil || a.Total != 4 || !a.Slowed() || len(a.Clients) != 4 {
		t.Errorf("LoginActivity = %+v, %v", a, err)
	}
}

// TestLoginRecognisedDeviceLosesRecognitionAfterItsOwnFailures: a device
// is exempt from others' failures, not from its own.
func TestLoginRecognisedDeviceLosesRecognitionAfterItsOwnFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{MaxFailures: 3})
	f.customer(t, ann())
	at := identity.Attempt{Client: "192.0.2.10"}
	_, _, device, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", password, "", at)
	if err != nil {
		t.Fatal(err)
	}
	at.Device = device
	for i := range 3 {
		if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", "guess", "", at); !errors.Is(err, identity.ErrBadCredentials) {
			t.Fatalf("device's own failure %d: %v, want ErrBadCredentials", i+1, err)
		}
	}
	if _, _, _, err := f.svc.LoginFrom(f.ctx, identity.RealmCustomer, "ann@example.com", password, "", at); !errors.Is(err, identity.ErrLocked) {
		t.Fatalf("after 3 failures of its own the device is a stranger: %v, want ErrLocked", err)
	}
}
