package identity_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/google/go-cmp/cmp"
)

// t0 is on a TOTP step boundary plus 1 s, so that adding 30 s moves one step.
var t0 = time.Date(2026, 3, 4, 5, 6, 1, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	svc   *identity.Service
	clock *clock
	ctx   context.Context
}

func newFixture(t *testing.T, opts identity.Options) *fixture {
	t.Helper()
	db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: t0}
	opts.Now = c.Now
	return &fixture{svc: identity.New(db.Identity(), opts), clock: c, ctx: context.Background()}
}

const password = "correct horse battery"

func ann() identity.Customer {
	return identity.Customer{Name: "Ann Lee", Email: "ann@example.com", BirthYear: 1990}
}

func (f *fixture) customer(t *testing.T, c identity.Customer) identity.Customer {
	t.Helper()
	got, err := f.svc.RegisterCustomer(f.ctx, c, password)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func (f *fixture) login(t *testing.T, email, code string) (string, identity.Session) {
	t.Helper()
	tok, s, err := f.svc.Login(f.ctx, identity.RealmCustomer, email, password, code)
	if err != nil {
		t.Fatalf("Login(%s): %v", email, err)
	}
	return tok, s
}

func pointers(err error) []string {
	var e *bankbridge.Error
	if !errors.As(err, &e) {
		return nil
	}
	var ps []string
	for _, f := range e.Fields {
		ps = append(ps, f.Pointer)
	}
	return ps
}

func TestRegisterCustomer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{})
	got, err := f.svc.RegisterCustomer(f.ctx, identity.Customer{
		Name: "  Ann Lee ", Email: " Ann@Example.COM ", Phone: "+1 (555) 010-0000", BirthYear: 1990,
		Address: identity.Address{City: " Springfield ", Country: "us"},
	}, password)
	if err != nil {
		t.Fatal(err)
	}
	want := identity.Customer{ID: got.ID, Name: "Ann Lee", Email: "ann@example.com", Phone: "+15550100000", BirthYear: 1990,
		Address: identity.Address{City: "Springfield", Country: "US"}, Since: t0}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("RegisterCustomer normalised (-want +got):\n%s", d)
	}
	if read, err := f.svc.Customer(f.ctx, got.ID); err != nil || cmp.Diff(want, read) != "" {
		t.Errorf("Customer read back (-want +got):\n%s (err %v)", cmp.Diff(want, read), err)
	}
	dup := ann()
	dup.Email = "ANN@example.com"
	if _, err := f.svc.RegisterCustomer(f.ctx, dup, password); !errors.Is(err, identity.ErrEmailTaken) {
		t.Errorf("same email in another case: got %v, want ErrEmailTaken", err)
	}
	if _, err := f.svc.Customer(f.ctx, got.ID+1); !errors.Is(err, identity.ErrCustomerNotFound) {
		t.Errorf("unknown customer: got %v, want ErrCustomerNotFound", err)
	}
}

func TestRegisterCustomerRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{})
	year := t0.Year()
	for _, tc := range []struct {
		name     string
		edit     func(*identity.Customer)
		password string
		want     []string
	}{
		{"MissingName", func(c *identity.Customer) { c.Name = "   " }, password, []string{"/name"}},
		{"BadEmail", func(c *identity.Customer) { c.Email = "ann.example.com" }, password, []string{"/email"}},
		{"EmailWithDisplayName", func(c *identity.Customer) { c.Email = "Ann <ann@example.com>" }, password, []string{"/email"}},
		{"SeventeenYearsOld", func(c *identity.Customer) { c.BirthYear = year - 17 }, password, []string{"/birth_year"}},
		{"OlderThan120", func(c *identity.Customer) { c.BirthYear = year - 121 }, password, []string{"/birth_year"}},
		{"NoBirthYear", func(c *identity.Customer) { c.BirthYear = 0 }, password, []string{"/birth_year"}},
		{"BadPhone", func(c *identity.Customer) { c.Phone = "call me" }, password, []string{"/phone"}},
		{"ShortPhone", func(c *identity.Customer) { c.Phone = "+1 555" }, password, []string{"/phone"}},
		{"NameWithRightToLeftOverride", func(c *identity.Customer) { c.Name = "Ann \u202Enosmoht" }, password, []string{"/name"}},
		{"NameWithZeroWidthSpace", func(c *identity.Customer) { c.Name = "A\u200Bnn" }, password, []string{"/name"}},
		{"AddressWithIsolate", func(c *identity.Customer) { c.Address.City = "\u2067Paris" }, password, []string{"/address/city"}},
		{"ShortPassword", func(c *identity.Customer) {}, "short", []string{"/password"}},
		{"Everything", func(c *identity.Customer) { *c = identity.Customer{Phone: "x"} }, "", []string{"/name", "/email", "/birth_year", "/phone", "/password"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := ann()
			c.Email = strings.ToLower(tc.name) + "@example.com"
			tc.edit(&c)
			_, err := f.svc.RegisterCustomer(f.ctx, c, tc.password)
			if !errors.Is(err, identity.ErrCustomerInvalid) || bankbridge.ErrorKind(err) != bankbridge.Invalid {
				t.Fatalf("got %v, want ErrCustomerInvalid", err)
			}
			if d := cmp.Diff(tc.want, pointers(err)); d != "" {
				t.Errorf("field pointers (-want +got):\n%s", d)
			}
		})
	}
	for _, ok := range []int{year - 18, year - 120} {
		c := ann()
		c.Email, c.BirthYear = fmt.Sprintf("born%d@example.com", ok), ok
		if _, err := f.svc.RegisterCustomer(f.ctx, c, password); err != nil {
			t.Errorf("born %d (age %d): %v, want accepted", ok, year-ok, err)
		}
	}
}

func TestImportCustomers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{})
	hash, err := identity.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	in := []identity.Customer{ann(), {Name: "Bo", Email: " BO@example.com", BirthYear: 1970}}
	out, err := f.svc.ImportCustomers(f.ctx, in, hash)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || out[0].ID >= out[1].ID || out[1].Email != "bo@example.com" || !out[1].Since.Equal(t0) {
		t.Fatalf("ImportCustomers = %+v; want two normalised customers with increasing ids", out)
	}
	// The shared hash works for logging in.
	if _, _, err := f.svc.Login(f.ctx, identity.RealmCustomer, "bo@example.com", password, ""); err != nil {
		t.Errorf("login of an imported customer: %v", err)
	}
	bad := []identity.Customer{{Name: "C", Email: "c@example.com", BirthYear: 1980}, {Name: "D", Email: "nope", BirthYear: 1980}}
	if _, err := f.svc.ImportCustomers(f.ctx, bad, hash); !errors.Is(err, identity.ErrCustomerInvalid) || cmp.Diff([]string{"/1/email"}, pointers(err)) != "" {
		t.Errorf("invalid import: got %v with pointers %v, want ErrCustomerInvalid at /1/email", err, pointers(err))
	}
	if _, err := f.svc.ImportCustomers(f.ctx, bad[:1], "plaintext"); !errors.Is(err, identity.ErrHashFormat) {
		t.Errorf("import with a bad hash: got %v, want ErrHashFormat", err)
	}
}

func TestAddStaff(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{})
	st, err := f.svc.AddStaff(f.ctx, identity.Staff{Email: "Ops@Bank.example", Name: "Ops", Role: identity.Compliance}, password)
	if err != nil {
		t.Fatal(err)
	}
	want := identity.Staff{ID: st.ID, Email: "ops@bank.example", Name: "Ops", Role: identity.Compliance, Created: t0}
	if got, err := f.svc.Staff(f.ctx, st.ID); err != nil || cmp.Diff(want, got) != "" {
		t.Errorf("Staff (-want +got):\n%s (err %v)", cmp.Diff(want, got), err)
	}
	_, err = f.svc.AddStaff(f.ctx, identity.Staff{Email: "x@bank.example", Name: "X", Role: "root"}, password)
	if !errors.Is(err, identity.ErrStaffInvalid) || cmp.Diff([]string{"/role"}, pointers(err)) != "" {
		t.Errorf("unknown role: got %v %v, want ErrStaffInvalid at /role", err, pointers(err))
	}
	tok, sess, err := f.svc.Login(f.ctx, identity.RealmStaff, "ops@bank.example", password, "")
	if err != nil {
		t.Fatal(err)
	}
	if sess.Realm != identity.RealmStaff || sess.Staff != st.ID || sess.Role != identity.Compliance || sess.Customer != 0 {
		t.Errorf("staff session %+v", sess)
	}
	if got, err := f.svc.Session(f.ctx, tok); err != nil || got.Role != identity.Compliance {
		t.Errorf("staff session read back: %+v, %v", got, err)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{})
	c := f.customer(t, ann())
	f.svc.AddStaff(f.ctx, identity.Staff{Email: "staff@example.com", Name: "S", Role: identity.Support}, password)

	t.Run("RightPasswordOpensSession", func(t *testing.T) {
		tok, sess := f.login(t, "  ANN@example.com ", "")
		if len(tok) != 43 || strings.ContainsAny(tok, "+/=") {
			t.Errorf("token %q is not 32 bytes of base64url", tok)
		}
		want := identity.Session{Realm: identity.RealmCustomer, Customer: c.ID, CSRF: sess.CSRF,
			Created: t0, LastSeen: t0, Expires: t0.Add(30 * time.Minute)}
		if d := cmp.Diff(want, sess); d != "" || len(sess.CSRF) < 32 {
			t.Errorf("session (-want +got):\n%s", d)
		}
		if got, err := f.svc.Session(f.ctx, tok); err != nil || cmp.Diff(want, got) != "" {
			t.Errorf("Session(token) (-want +got):\n%s (err %v)", cmp.Diff(want, got), err)
		}
		tok2, sess2 := f.login(t, c.Email, "")
		if tok2 == tok || sess2.CSRF == sess.CSRF {
			t.Error("two logins share a token or a CSRF token")
		}
	})
	t.Run("UnknownEmailAndWrongPasswordLookTheSame", func(t *testing.T) {
		var errs []error
		for _, tc := range []struct {
			realm           identity.Realm
			email, password string
		}{
			{identity.RealmCustomer, "nobody@example.com", password},
			{identity.RealmCustomer, c.Email, "wrong password"},
			{identity.RealmCustomer, c.Email, ""},
			{identity.RealmStaff, c.Email, password},                // a customer is not staff
			{identity.RealmCustomer, "staff@example.com", password}, // and the other way round
		} {
			_, _, err := f.svc.Login(f.ctx, tc.realm, tc.email, tc.password, "")
			if !errors.Is(err, identity.ErrBadCredentials) {
				t.Errorf("Login(%s, %s, %q): got %v, want ErrBadCredentials", tc.realm, tc.email, tc.password, err)
			}
			errs = append(errs, err)
		}
		for _, err := range errs[1:] {
			if bankbridge.ErrorKind(err) != bankbridge.ErrorKind(errs[0]) || bankbridge.ErrorMessage(err) != bankbridge.ErrorMessage(errs[0]) || bankbridge.ErrorCode(err) != bankbridge.ErrorCode(errs[0]) {
				t.Errorf("answers differ: %v vs %v", err, errs[0])
			}
		}
		f.login(t, c.Email, "") // resets the failures counted above
	})
	t.Run("UnknownRealm", func(t *testing.T) {
		if _, _, err := f.svc.Login(f.ctx, "partner", c.Email, password, ""); !errors.Is(err, identity.ErrRealm) {
			t.Errorf("got %v, want ErrRealm", err)
		}
	})
}

func TestLockout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{})
	c := f.customer(t, ann())
	wrong := func() error {
		_, _, err := f.svc.Login(f.ctx, identity.RealmCustomer, c.Email, "wrong password", "")
		return err
	}
	right := func() error {
		_, _, err := f.svc.Login(f.ctx, identity.RealmCustomer, c.Email, password, "")
		return err
	}
	step := func(name string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("%s: got %v, want %v", name, err, want)
		}
	}
	for i := 1; i <= 4; i++ {
		step("failure below the limit", wrong(), identity.ErrBadCredentials)
	}
	step("fifth failure locks", wrong(), identity.ErrLocked)
	if bankbridge.ErrorKind(identity.ErrLocked) != bankbridge.TooManyRequests {
		t.Error("ErrLocked is not TooManyRequests")
	}
	step("right password while locked", right(), identity.ErrLocked)
	f.clock.Advance(59 * time.Second)
	step("still locked after 59 s", right(), identity.ErrLocked)
	f.clock.Advance(time.Second)
	step("unlocked after 1 min", right(), nil)

	// The success reset the count: four more failures do not lock.
	for i := 1; i <= 4; i++ {
		step("failure after reset", wrong(), identity.ErrBadCredentials)
	}
	err := wrong()
	step("fifth failure locks again for 1 min", err, identity.ErrLocked)
	if until, ok := identity.LockedUntil(err); !ok || !until.Equal(f.clock.Now().Add(time.Minute)) {
		t.Errorf("LockedUntil = %v, %v; want now + 1 min", until, ok)
	}
	f.clock.Advance(time.Minute)
	// A lock that ended gives a fresh round of tries: one more wrong
	// password does not lock again at once.
	for i := 1; i <= 4; i++ {
		step("failure after a lock ended", wrong(), identity.ErrBadCredentials)
	}
	step("tenth failure locks for 2 min", wrong(), identity.ErrLocked)
	f.clock.Advance(time.Minute + 59*time.Second)
	err = right()
	step("still locked after 1:59", err, identity.ErrLocked)
	if until, ok := identity.LockedUntil(err); !ok || !until.Equal(f.clock.Now().Add(time.Second)) {
		t.Errorf("LockedUntil while locked = %v, %v; want 1 s from now", until, ok)
	}
	f.clock.Advance(time.Second)
	for i := 1; i <= 4; i++ {
		step("failure after the second lock", wrong(), identity.ErrBadCredentials)
	}
	step("fifteenth failure locks for 4 min", wrong(), identity.ErrLocked)
	f.clock.Advance(4 * time.Minute)
	step("unlocked after 4 min", right(), nil)

	// Failures are counted per account: another customer is not affected.
	other := ann()
	other.Email = "other@example.com"
	f.customer(t, other)
	for i := 1; i <= 4; i++ {
		step("failure of one account", wrong(), identity.ErrBadCredentials)
	}
	if _, _, err := f.svc.Login(f.ctx, identity.RealmCustomer, other.Email, password, ""); err != nil {
		t.Errorf("another account after 4 failures of the first: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{SessionTTL: 30 * time.Minute, SessionMaxAge: 2 * time.Hour})
	c := f.customer(t, ann())
	session := func(tok string) (identity.Session, error) { return f.svc.Session(f.ctx, tok) }

	t.Run("IdleExpirySlides", func(t *testing.T) {
		tok, _ := f.login(t, c.Email, "")
		start := f.clock.Now()
		f.clock.Advance(30 * time.Second)
		if s, err := session(tok); err != nil || !s.Expires.Equal(start.Add(30*time.Minute)) {
			t.Errorf("within a minute the expiry does not move: %v, %v", s.Expires, err)
		}
		f.clock.Advance(29 * time.Minute) // 29:30 after login
		s, err := session(tok)
		if err != nil || !s.Expires.Equal(f.clock.Now().Add(30*time.Minute)) || !s.LastSeen.Equal(f.clock.Now()) {
			t.Fatalf("use before the idle expiry slides it: %+v, %v", s, err)
		}
		f.clock.Advance(29 * time.Minute)
		if _, err := session(tok); err != nil {
			t.Errorf("29 minutes after the last use: %v", err)
		}
		f.clock.Advance(30 * time.Minute)
		if _, err := session(tok); !errors.Is(err, identity.ErrNoSession) {
			t.Errorf("30 minutes idle: got %v, want ErrNoSession", err)
		}
		if _, err := session(tok); !errors.Is(err, identity.ErrNoSession) {
			t.Errorf("an expired session came back: %v", err)
		}
	})
	t.Run("AbsoluteExpiryHoldsWhateverTheUse", func(t *testing.T) {
		tok, s := f.login(t, c.Email, "")
		end := s.Created.Add(2 * time.Hour)
		for f.clock.Now().Add(20 * time.Minute).Before(end) {
			f.clock.Advance(20 * time.Minute)
			s, err := session(tok)
			if err != nil {
				t.Fatalf("active session ended early at %v: %v", f.clock.Now(), err)
			}
			if s.Expires.After(end) {
				t.Fatalf("expiry %v is past the absolute expiry %v", s.Expires, end)
			}
		}
		f.clock.Advance(end.Sub(f.clock.Now()))
		if _, err := session(tok); !errors.Is(err, identity.ErrNoSession) {
			t.Errorf("at the absolute expiry: got %v, want ErrNoSession", err)
		}
	})
	t.Run("LogoutEnds", func(t *testing.T) {
		tok, _ := f.login(t, c.Email, "")
		if err := f.svc.Logout(f.ctx, tok); err != nil {
			t.Fatal(err)
		}
		if _, err := session(tok); !errors.Is(err, identity.ErrNoSession) {
			t.Errorf("after logout: got %v, want ErrNoSession", err)
		}
		if err := f.svc.Logout(f.ctx, tok); err != nil {
			t.Errorf("second logout: %v", err)
		}
		if err := f.svc.Logout(f.ctx, "garbage"); err != nil {
			t.Errorf("logout of garbage: %v", err)
		}
	})
	t.Run("MalformedOrUnknownToken", func(t *testing.T) {
		for _, tok := range []string{"", "garbage", strings.Repeat("A", 43)} {
			if _, err := session(tok); !errors.Is(err, identity.ErrNoSession) || bankbridge.ErrorKind(err) != bankbridge.Unauthenticated {
				t.Errorf("Session(%q): got %v, want ErrNoSession", tok, err)
			}
		}
	})
	t.Run("PurgeAndLogoutEverywhere", func(t *testing.T) {
		a, _ := f.login(t, c.Email, "")
		b, _ := f.login(t, c.Email, "")
		n, err := f.svc.LogoutEverywhere(f.ctx, identity.Principal{Realm: identity.RealmCustomer, ID: int64(c.ID)})
		if err != nil || n < 2 {
			t.Errorf("LogoutEverywhere = %d, %v; want at least 2", n, err)
		}
		for _, tok := range []string{a, b} {
			if _, err := session(tok); !errors.Is(err, identity.ErrNoSession) {
				t.Errorf("after LogoutEverywhere: %v", err)
			}
		}
		f.login(t, c.Email, "")
		f.clock.Advance(3 * time.Hour)
		if n, err := f.svc.PurgeSessions(f.ctx); err != nil || n != 1 {
			t.Errorf("PurgeSessions = %d, %v; want 1", n, err)
		}
	})
}

func TestTOTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, identity.Options{Issuer: "Example Bank"})
	c := f.customer(t, ann())
	tok, _ := f.login(t, c.Email, "")
	loginCode := func(code string) (string, error) {
		tok, _, err := f.svc.Login(f.ctx, identity.RealmCustomer, c.Email, password, code)
		return tok, err
	}

	if err := f.svc.StepUp(f.ctx, tok, "123456"); !errors.Is(err, identity.ErrTOTPNotEnrolled) {
		t.Errorf("StepUp before enrolment: got %v, want ErrTOTPNotEnrolled", err)
	}
	if err := f.svc.ConfirmTOTP(f.ctx, tok, "123456"); !errors.Is(err, identity.ErrTOTPNotBegun) {
		t.Errorf("ConfirmTOTP before BeginTOTP: got %v, want ErrTOTPNotBegun", err)
	}
	secret, uri, err := f.svc.BeginTOTP(f.ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(uri, "otpauth://totp/") || !strings.Contains(uri, "secret="+secret) || !strings.Contains(uri, "issuer=Example+Bank") || !strings.Contains(uri, "ann@example.com") {
		t.Errorf("otpauth URL %q", uri)
	}
	// Until confirmed, the password alone still logs in.
	if _, err := loginCode(""); err != nil {
		t.Errorf("login during enrolment: %v", err)
	}
	wrong := func(code string) string { // a well-formed code that is not the right one
		if code == "000000" {
			return "000001"
		}
		return "000000"
	}
	now := identity.TOTPCode(secret, f.clock.Now())
	if err := f.svc.ConfirmTOTP(f.ctx, tok, wrong(now)); !errors.Is(err, identity.ErrBadCode) {
		t.Errorf("ConfirmTOTP(wrong): got %v, want ErrBadCode", err)
	}
	if err := f.svc.ConfirmTOTP(f.ctx, tok, now); err != nil {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	s, err := f.svc.Session(f.ctx, tok)
	if err != nil || !s.TOTPEnrolled || !s.SteppedUpWithin(time.Minute, f.clock.Now()) {
		t.Errorf("after enrolment the session is %+v, %v; want enrolled and stepped up", s, err)
	}
	if _, _, err := f.svc.BeginTOTP(f.ctx, tok); !errors.Is(err, identity.ErrTOTPEnrolled) {
		t.Errorf("BeginTOTP again: got %v, want ErrTOTPEnrolled", err)
	}

	t.Run("LoginNeedsTheCode", func(t *testing.T) {
		// A missing code is the first step of the form, not a failure.
		for range 7 {
			if _, err := loginCode(""); !errors.Is(err, identity.ErrTOTPRequired) || bankbridge.ErrorCode(err) != "totp_required" {
				t.Fatalf("login without code: got %v, want ErrTOTPRequired", err)
			}
		}
		if _, err := loginCode(now); !errors.Is(err, identity.ErrTOTPRequired) {
			t.Errorf("the code used to confirm, replayed: got %v, want ErrTOTPRequired", err)
		}
		if _, err := loginCode(wrong(now)); !errors.Is(err, identity.ErrTOTPRequired) {
			t.Errorf("wrong code: got %v, want ErrTOTPRequired", err)
		}
		f.clock.Advance(30 * time.Second)
		code := identity.TOTPCode(secret, f.clock.Now())
		tok2, err := loginCode(code)
		if err != nil {
			t.Fatalf("login with a fresh code: %v", err)
		}
		if s, err := f.svc.Session(f.ctx, tok2); err != nil || !s.TOTPEnrolled || !s.SteppedUp.IsZero() {
			t.Errorf("session after a TOTP login: %+v, %v", s, err)
		}
		if _, err := loginCode(code); !errors.Is(err, identity.ErrTOTPRequired) {
			t.Errorf("the same code twice: got %v, want ErrTOTPRequired", err)
		}
	})
	t.Run("WrongCodesLockTheAccount", func(t *testing.T) {
		f.clock.Advance(30 * time.Second)
		if _, err := loginCode(identity.TOTPCode(secret, f.clock.Now())); err != nil { // resets the count
			t.Fatal(err)
		}
		for i := 1; i <= 4; i++ {
			if _, err := loginCode(wrong(identity.TOTPCode(secret, f.clock.Now()))); !errors.Is(err, identity.ErrTOTPRequired) {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		if _, err := loginCode(wrong(identity.TOTPCode(secret, f.clock.Now()))); !errors.Is(err, identity.ErrLocked) {
			t.Fatalf("fifth wrong code: got %v, want ErrLocked", err)
		}
		f.clock.Advance(time.Minute)
		if _, err := loginCode(identity.TOTPCode(secret, f.clock.Now())); err != nil {
			t.Fatalf("after the lock: %v", err)
		}
	})
	t.Run("StepUp", func(t *testing.T) {
		f.clock.Advance(30 * time.Second)
		tok, err := loginCode(identity.TOTPCode(secret, f.clock.Now()))
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(30 * time.Second)
		code := identity.TOTPCode(secret, f.clock.Now())
		if err := f.svc.StepUp(f.ctx, tok, wrong(code)); !errors.Is(err, identity.ErrBadCode) {
			t.Errorf("StepUp(wrong): got %v, want ErrBadCode", err)
		}
		if s, _ := f.svc.Session(f.ctx, tok); !s.SteppedUp.IsZero() {
			t.Error("a wrong code stepped the session up")
		}
		if err := f.svc.StepUp(f.ctx, tok, code); err != nil {
			t.Fatalf("StepUp: %v", err)
		}
		at := f.clock.Now()
		if s, err := f.svc.Session(f.ctx, tok); err != nil || !s.SteppedUp.Equal(at) || !s.SteppedUpWithin(5*time.Minute, at) {
			t.Errorf("after StepUp: %+v, %v", s, err)
		}
		if err := f.svc.StepUp(f.ctx, tok, code); !errors.Is(err, identity.ErrBadCode) {
			t.Errorf("StepUp with a used code: got %v, want ErrBadCode", err)
		}
		f.clock.Advance(6 * time.Minute)
		if s, err := f.svc.Session(f.ctx, tok); err != nil || s.SteppedUpWithin(5*time.Minute, f.clock.Now()) {
			t.Errorf("6 minutes after the step-up it still counts: %+v, %v", s, err)
		}
		if err := f.svc.StepUp(f.ctx, "garbage", code); !errors.Is(err, identity.ErrNoSession) {
			t.Errorf("StepUp without a session: got %v, want ErrNoSession", err)
		}
	})
}
