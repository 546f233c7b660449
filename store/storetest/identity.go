package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/google/go-cmp/cmp"
)

// IdentityOpener opens a fresh, empty identity store for one test.
type IdentityOpener func(t testing.TB) identity.Store

// Identity runs the identity.Store conformance suite against the engine open
// returns.
func Identity(t *testing.T, open IdentityOpener) {
	t.Run("CustomersCreateAndRead", func(t *testing.T) { t.Parallel(); identityCustomers(t, open) })
	t.Run("EmailUniquePerRealm", func(t *testing.T) { t.Parallel(); identityEmailUnique(t, open) })
	t.Run("ImportAssignsIDsInOrder", func(t *testing.T) { t.Parallel(); identityImport(t, open) })
	t.Run("ImportIsAllOrNothing", func(t *testing.T) { t.Parallel(); identityImportAtomic(t, open) })
	t.Run("StaffCreateAndRead", func(t *testing.T) { t.Parallel(); identityStaff(t, open) })
	t.Run("Credentials", func(t *testing.T) { t.Parallel(); identityCredentials(t, open) })
	t.Run("FailuresLockAndReset", func(t *testing.T) { t.Parallel(); identityFailures(t, open) })
	t.Run("ConcurrentFailuresAllCounted", func(t *testing.T) { t.Parallel(); identityConcurrentFailures(t, open) })
	t.Run("TOTPEnrolAndRefuseReplay", func(t *testing.T) { t.Parallel(); identityTOTP(t, open) })
	t.Run("SessionsCreateReadUpdateDelete", func(t *testing.T) { t.Parallel(); identitySessions(t, open) })
	t.Run("SessionsSweep", func(t *testing.T) { t.Parallel(); identitySessionSweep(t, open) })
	t.Run("PasswordResetSingleUseShortLived", func(t *testing.T) { t.Parallel(); identityResets(t, open) })
}

// identityResets: a reset is used once, even by two at the same moment;
// not after it expired; it is counted for the rate limit; SetPassword
// replaces the hash and lifts the lock.
func identityResets(t *testing.T, open IdentityOpener) {
	st := open(t)
	ctx := context.Background()
	c, err := st.CreateCustomer(ctx, idCustomer(1), idHash)
	noErr(t, err)
	p := identity.Principal{Realm: identity.RealmCustomer, ID: int64(c.ID)}
	mk := func(b byte, created time.Time) identity.Reset {
		h := make([]byte, 32)
		h[0] = b
		return identity.Reset{Hash: h, Principal: p, Email: c.Email, Created: created, Expires: created.Add(30 * time.Minute)}
	}
	r1, r2 := mk(1, idT0), mk(2, idT0.Add(time.Minute))
	for _, r := range []identity.Reset{r1, r2, mk(3, idT0.Add(-2*time.Hour))} {
		noErr(t, st.CreateReset(ctx, r))
	}
	if n, err := st.ResetsSince(ctx, p, idT0.Add(-time.Hour)); err != nil || n != 2 {
		t.Errorf("ResetsSince = %d, %v; want 2", n, err)
	}
	// Two uses at once: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := st.UseReset(ctx, r1.Hash, idT0.Add(time.Minute))
			switch {
			case err == nil:
				wins.Add(1)
				if got.Principal != p || got.Email != c.Email || !got.Expires.Equal(r1.Expires) {
					t.Errorf("UseReset = %+v", got)
				}
			case !errors.Is(err, identity.ErrResetLink):
				t.Errorf("UseReset: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent uses of one reset succeeded, want 1", wins.Load())
	}
	if _, err := st.UseReset(ctx, r2.Hash, r2.Expires); !errors.Is(err, identity.ErrResetLink) {
		t.Errorf("UseReset at expiry = %v, want ErrResetLink", err)
	}
	if _, err := st.UseReset(ctx, make([]byte, 32), idT0); !errors.Is(err, identity.ErrResetLink) {
		t.Errorf("UseReset(unknown) = %v, want ErrResetLink", err)
	}
	noErr(t, st.LockUntil(ctx, p, idT0.Add(time.Hour)))
	noErr(t, st.SetPassword(ctx, p, "new-hash"))
	cred, err := st.Credential(ctx, p)
	if err != nil || cred.PasswordHash != "new-hash" || !cred.LockedUntil.IsZero() || cred.Failures != 0 {
		t.Errorf("after SetPassword: %+v, %v", cred, err)
	}
	if err := st.SetPassword(ctx, identity.Principal{Realm: identity.RealmCustomer, ID: 99999}, "x"); !errors.Is(err, identity.ErrCustomerNotFound) {
		t.Errorf("SetPassword(unknown) = %v", err)
	}
}

// idT0 has microseconds, the precision both engines keep.
var idT0 = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

const idHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U"

func idCustomer(i int) identity.Customer {
	return identity.Customer{
		Name:      fmt.Sprintf("Customer %d", i),
		Email:     fmt.Sprintf("customer%d@example.com", i),
		Phone:     "+15550100" + fmt.Sprintf("%03d", i%1000),
		Address:   identity.Address{Line1: fmt.Sprintf("%d Main St", i), Line2: "Apt 2", City: "Springfield", Region: "IL", PostalCode: "62701", Country: "US"},
		BirthYear: 1950 + i%50,
		Since:     idT0.Add(time.Duration(i) * time.Second),
	}
}

func idHashOf(token string) []byte { h := sha256.Sum256([]byte(token)); return h[:] }

func mustCustomer(t testing.TB, s identity.Store, c identity.Customer) identity.Customer {
	t.Helper()
	got, err := s.CreateCustomer(context.Background(), c, idHash)
	if err != nil {
		t.Fatalf("CreateCustomer(%s): %v", c.Email, err)
	}
	return got
}

func mustStaff(t testing.TB, s identity.Store, email string, role identity.Role) identity.Staff {
	t.Helper()
	st, err := s.CreateStaff(context.Background(), identity.Staff{Email: email, Name: "Staff " + email, Role: role, Created: idT0}, idHash)
	if err != nil {
		t.Fatalf("CreateStaff(%s): %v", email, err)
	}
	return st
}

func identityCustomers(t *testing.T, open IdentityOpener) {
	ctx, s := context.Background(), open(t)
	in := idCustomer(1)
	a := mustCustomer(t, s, in)
	if a.ID <= 0 {
		t.Fatalf("CreateCustomer gave id %d, want > 0", a.ID)
	}
	want := in
	want.ID = a.ID
	if d := cmp.Diff(want, a); d != "" {
		t.Errorf("CreateCustomer returned (-want +got):\n%s", d)
	}
	got, err := s.Customer(ctx, a.ID)
	noErr(t, err)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Customer read back (-want +got):\n%s", d)
	}
	// Optional fields may be empty.
	minimal := identity.Customer{Name: "Min", Email: "min@example.com", BirthYear: 1990, Since: idT0}
	b := mustCustomer(t, s, minimal)
	if b.ID == a.ID {
		t.Fatalf("two customers share id %d", a.ID)
	}
	if got, err := s.Customer(ctx, b.ID); err != nil || got.Phone != "" || got.Address != (identity.Address{}) {
		t.Errorf("minimal customer read back %+v, %v", got, err)
	}
	if _, err := s.Customer(ctx, b.ID+1000); !errors.Is(err, identity.ErrCustomerNotFound) {
		t.Errorf("unknown customer: got %v, want ErrCustomerNotFound", err)
	}
}

func identityEmailUnique(t *testing.T, open IdentityOpener) {
	ctx, s := context.Background(), open(t)
	first := mustCustomer(t, s, idCustomer(1))
	dup := idCustomer(2)
	dup.Email = first.Email
	if _, err := s.CreateCustomer(ctx, dup, idHash); !errors.Is(err, identity.ErrEmailTaken) {
		t.Errorf("duplicate customer email: got %v, want ErrEmailTaken", err)
	}
	if bankbridge.ErrorKind(func() error { _, err := s.CreateCustomer(ctx, dup, idHash); return err }()) != bankbridge.Conflict {
		t.Errorf("duplicate customer email is not a Conflict")
	}
	// The same email is free in the other realm, and taken there once used.
	mustStaff(t, s, first.Email, identity.Support)
	if _, err := s.CreateStaff(ctx, identity.Staff{Email: first.Email, Name: "Other", Role: identity.Analyst, Created: idT0}, idHash); !errors.Is(err, identity.ErrEmailTaken) {
		t.Errorf("duplicate staff email: got %v, want ErrEmailTaken", err)
	}
	cred, err := s.CredentialByEmail(ctx, identity.RealmCustomer, first.Email)
	if err != nil || cred.ID != int64(first.ID) {
		t.Errorf("after the refused duplicate, the email names customer %d, %v; want %d", cred.ID, err, first.ID)
	}
}

func identityImport(t *testing.T, open IdentityOpener) {
	ctx, s := context.Background(), open(t)
	before := mustCustomer(t, s, idCustomer(0))
	if out, err := s.ImportCustomers(ctx, nil, idHash); err != nil || len(out) != 0 {
		t.Fatalf("ImportCustomers(nil) = %v, %v; want nothing", out, err)
	}
	// More than two chunks of any reasonable chunk size, and not a multiple.
	const n = 1234
	in := make([]identity.Customer, n)
	for i := range in {
		in[i] = idCustomer(i + 1)
	}
	out, err := s.ImportCustomers(ctx, in, idHash)
	noErr(t, err)
	if len(out) != n {
		t.Fatalf("ImportCustomers returned %d customers, want %d", len(out), n)
	}
	prev := before.ID
	for i, c := range out {
		if c.ID <= prev {
			t.Fatalf("customer %d has id %d, not after %d: ids must increase in input order", i, c.ID, prev)
		}
		prev = c.ID
		want := in[i]
		want.ID = c.ID
		if d := cmp.Diff(want, c); d != "" {
			t.Fatalf("imported customer %d (-want +got):\n%s", i, d)
		}
	}
	for _, i := range []int{0, 1, 499, 500, 501, 999, 1000, n - 1} {
		got, err := s.Customer(ctx, out[i].ID)
		if err != nil {
			t.Fatalf("Customer(%d): %v", out[i].ID, err)
		}
		if d := cmp.Diff(out[i], got); d != "" {
			t.Errorf("imported customer %d read back (-want +got):\n%s", i, d)
		}
		cred, err := s.CredentialByEmail(ctx, identity.RealmCustomer, in[i].Email)
		if err != nil || cred.PasswordHash != idHash || cred.ID != int64(out[i].ID) {
			t.Errorf("credential of imported customer %d: %+v, %v", i, cred, err)
		}
	}
	// Later inserts do not collide with imported ids.
	after := mustCustomer(t, s, idCustomer(n+1))
	if after.ID <= out[n-1].ID {
		t.Errorf("customer created after the import got id %d, not after %d", after.ID, out[n-1].ID)
	}
}

func identityImportAtomic(t *testing.T, open IdentityOpener) {
	ctx, s := context.Background(), open(t)
	existing := mustCustomer(t, s, idCustomer(0))
	for _, tc := range []struct {
		name string
		dup  func(in []identity.Customer)
	}{
		{"DuplicateInsideImport", func(in []identity.Customer) { in[700].Email = in[3].Email }},
		{"DuplicateOfExisting", func(in []identity.Customer) { in[900].Email = existing.Email }},
	} {
		in := make([]identity.Customer, 1000)
		for i := range in {
			in[i] = idCustomer(i + 1)
		}
		tc.dup(in)
		if _, err := s.ImportCustomers(ctx, in, idHash); !errors.Is(err, identity.ErrEmailTaken) {
			t.Errorf("%s: got %v, want ErrEmailTaken", tc.name, err)
		}
		for _, i := range []int{0, 3, 500, 999} {
			if _, err := s.CredentialByEmail(ctx, identity.RealmCustomer, in[i].Email); !errors.Is(err, identity.ErrCustomerNotFound) {
				t.Errorf("%s: customer %d of a refused import is there (%v); want nothing written", tc.name, i, err)
			}
		}
	}
}

func identityStaff(t *testing.T, open IdentityOpener) {
	ctx, s := context.Background(), open(t)
	for _, role := range []identity.Role{identity.Administrator, identity.Support, identity.Compliance, identity.Analyst} {
		st := mustStaff(t, s, string(role)+"@bank.example", role)
		want := identity.Staff{ID: st.ID, Email: string(role) + "@bank.example", Name: "Staff " + string(role) + "@bank.example", Role: role, Created: idT0}
		got, err := s.Staff(ctx, st.ID)
		noErr(t, err)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Staff read back (-want +got):\n%s", d)
		}
	}
	if _, err := s.Staff(ctx, 99999); !errors.Is(err, identity.ErrStaffNotFound) {
		t.Errorf("unknown staff: got %v, want ErrStaffNotFound", err)
	}
}

func identityCredentials(t *testing.T, open IdentityOpener) {
	ctx, s := context.Background(), open(t)
	c := mustCustomer(t, s, idCustomer(1))
	st := mustStaff(t, s, "ops@bank.example", identity.Administrator)
	cp := identity.Principal{Realm: identity.RealmCustomer, ID: int64(c.ID)}
	sp := identity.Principal{Realm: identity.RealmStaff, ID: int64(st.ID)}
	for _, tc := range []struct {
		name  string
		realm identity.Realm
		email string
		want  identity.Principal
	}{
		{"Customer", identity.RealmCustomer, c.Email, cp},
		{"Staff", identity.RealmStaff, st.Email, sp},
	} {
		want := identity.Credential{Principal: tc.want, Email: tc.email, PasswordHash: idHash}
		got, err := s.CredentialByEmail(ctx, tc.realm, tc.email)
		if err != nil {
			t.Fatalf("%s: CredentialByEmail: %v", tc.name, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: CredentialByEmail (-want +got):\n%s", tc.name, d)
		}
		got, err = s.Credential(ctx, tc.want)
		if err != nil {
			t.Fatalf("%s: Credential: %v", tc.name, err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: Credential (-want +got):\n%s", tc.name, d)
		}
	}
	for _, tc := range []struct {
		name string
		err  error
		call func() error
	}{
		{"UnknownCustomerEmail", identity.ErrCustomerNotFound, func() error {
			_, err := s.CredentialByEmail(ctx, identity.RealmCustomer, "nobody@example.com")
			return err
		}},
		{"StaffEmailInCustomerRealm", identity.ErrCustomerNotFound, func() error { _, err := s.CredentialByEmail(ctx, identity.RealmCustomer, st.Email); return err }},
		{"CustomerEmailInStaffRealm", identity.ErrStaffNotFound, func() error { _, err := s.CredentialByEmail(ctx, identity.RealmStaff, c.Email); return err }},
		{"UnknownStaffID", identity.ErrStaffNotFound, func() error {
			_, err := s.Credential(ctx, identity.Principal{Realm: identity.RealmStaff, ID: 424242})
			return err
		}},
		{"UnknownRealm", identity.ErrRealm, func() error { _, err := s.CredentialByEmail(ctx, "partner", c.Email); return err }},
	} {
		if err := tc.call(); !errors.Is(err, tc.err) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.err)
		}
	}
}

func identityFailures(t *testing.T, open IdentityOpener) {
	ctx, s := context.Background(), open(t)
	c := mustCustomer(t, s, idCustomer(1))
	st := mustStaff(t, s, "ops@bank.example", identity.Support)
	for _, p := range []identity.Principal{{Realm: identity.RealmCustomer, ID: int64(c.ID)}, {Realm: identity.RealmStaff, ID: int64(st.ID)}} {
		for want := 1; want <= 3; want++ {
			n, err := s.RecordFailure(ctx, p)
			if err != nil || n != want {
				t.Fatalf("%s: RecordFailure = %d, %v; want %d", p.Realm, n, err, want)
			}
		}
		until := idT0.Add(time.Minute)
		noErr(t, s.LockUntil(ctx, p, until))
		cred, err := s.Credential(ctx, p)
		if err != nil || cred.Failures != 3 || !cred.LockedUntil.Equal(until) {
			t.Errorf("%s: after 3 failures and a lock: failures %d, locked until %v, %v", p.Realm, cred.Failures, cred.LockedUntil, err)
		}
		noErr(t, s.ResetFailures(ctx, p))
		cred, err = s.Credential(ctx, p)
		if err != nil || cred.Failures != 0 || !cred.LockedUntil.IsZero() {
			t.Errorf("%s: after reset: failures %d, locked until %v, %v", p.Realm, cred.Failures, cred.LockedUntil, err)
		}
	}
	// The other realm's row with the same id is not touched.
	other, err := s.Credential(ctx, identity.Principal{Realm: identity.RealmStaff, ID: int64(st.ID)})
	if err != nil || other.Failures != 0 {
		t.Errorf("staff failures %d, %v; want 0", other.Failures, err)
	}
	unknown := identity.Principal{Realm: identity.RealmCustomer, ID: 424242}
	if _, err := s.RecordFailure(ctx, unknown); !errors.Is(err, identity.ErrCustomerNotFound) {
		t.Errorf("RecordFailure(unknown): got %v, want ErrCustomerNotFound", err)
	}
	if err := s.LockUntil(ctx, unknown, idT0); !errors.Is(err, identity.ErrCustomerNotFound) {
		t.Errorf("LockUntil(unknown): got %v, want ErrCustomerNotFound", err)
	}
}

func identityConcurrentFailures(t *testing.T, open IdentityOpener) {
	ctx, s := context.Background(), open(t)
	c := mustCustomer(t, s, idCustomer(1))
	p := identity.Principal{Realm: identity.RealmCustomer, ID: int64(c.ID)}
	const n = 20
	counts := make([]int, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			k, err := s.RecordFailure(ctx, p)
			counts[i] = k
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent RecordFailure: %v", err)
	}
	slices.Sort(counts)
	for i, k := range counts {
		if k != i+1 {
			t.Fatalf("concurrent RecordFailure returned counts %v; want each of 1..%d once", counts, n)
		}
	}
	if cred, err := s.Credential(ctx, p); err != nil || cred.Failures != n {
		t.Errorf("failures after %d concurrent failures: %d, %v", n, cred.Failures, err)
	}
}

func identityTOTP(t *testing.T, open IdentityOpener) {
	ctx, s := context.Background(), open(t)
	c := mustCustomer(t, s, idCustomer(1))
	st := mustStaff(t, s, "ops@bank.example", identity.Compliance)
	for _, p := range []identity.Principal{{Realm: identity.RealmCustomer, ID: int64(c.ID)}, {Realm: identity.RealmStaff, ID: int64(st.ID)}} {
		noErr(t, s.SetTOTPPending(ctx, p, "PENDINGSECRETONE"))
		noErr(t, s.SetTOTPPending(ctx, p, "PENDINGSECRETTWO"))
		cred, err := s.Credential(ctx, p)
		if err != nil || cred.TOTPPending != "PENDINGSECRETTWO" || cred.TOTPSecret != "" {
			t.Errorf("%s: after SetTOTPPending: pending %q secret %q, %v", p.Realm, cred.TOTPPending, cred.TOTPSecret, err)
		}
		const step = 59000000
		noErr(t, s.EnableTOTP(ctx, p, "PENDINGSECRETTWO", step))
		cred, err = s.Credential(ctx, p)
		if err != nil || cred.TOTPSecret != "PENDINGSECRETTWO" || cred.TOTPPending != "" || cred.TOTPLastStep != step {
			t.Errorf("%s: after EnableTOTP: %+v, %v", p.Realm, cred, err)
		}
		for _, tc := range []struct {
			step int64
			want bool
		}{{step, false}, {step - 1, false}, {step + 1, true}, {step + 1, false}, {step, false}, {step + 3, true}} {
			ok, err := s.UseTOTPStep(ctx, p, tc.step)
			if err != nil || ok != tc.want {
				t.Errorf("%s: UseTOTPStep(%d) = %v, %v; want %v", p.Realm, tc.step, ok, err, tc.want)
			}
		}
		// Of many concurrent uses of one fresh step, exactly one wins.
		var wins sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 10 {
			wins.Go(func() {
				ok, err := s.UseTOTPStep(ctx, p, step+10)
				if err != nil {
					t.Errorf("concurrent UseTOTPStep: %v", err)
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
			})
		}
		wins.Wait()
		if won != 1 {
			t.Errorf("%s: %d concurrent uses of one step succeeded, want exactly 1", p.Realm, won)
		}
	}
	if _, err := s.UseTOTPStep(ctx, identity.Principal{Realm: identity.RealmStaff, ID: 424242}, 1); !errors.Is(err, identity.ErrStaffNotFound) {
		t.Errorf("UseTOTPStep(unknown): got %v, want ErrStaffNotFound", err)
	}
}

func identitySessions(t *testing.T, open IdentityOpener) {
	ctx, s := context.Background(), open(t)
	c := mustCustomer(t, s, idCustomer(1))
	st := mustStaff(t, s, "ops@bank.example", identity.Compliance)
	cs := identity.Session{Realm: identity.RealmCustomer, Customer: c.ID, CSRF: "csrf-1",
		Created: idT0, Expires: idT0.Add(30 * time.Minute), LastSeen: idT0}
	ch := idHashOf("customer-token")
	// Role and TOTPEnrolled given on create are ignored: they are read from the account.
	withJunk := cs
	withJunk.Role, withJunk.TOTPEnrolled = identity.Administrator, true
	noErr(t, s.CreateSession(ctx, ch, withJunk))
	got, err := s.Session(ctx, ch)
	noErr(t, err)
	if d := cmp.Diff(cs, got); d != "" {
		t.Errorf("customer session (-want +got):\n%s", d)
	}

	// Enrolment and step-up show at the next read.
	noErr(t, s.EnableTOTP(ctx, identity.Principal{Realm: identity.RealmCustomer, ID: int64(c.ID)}, "SECRET", 1))
	seen, exp, up := idT0.Add(5*time.Minute), idT0.Add(35*time.Minute), idT0.Add(6*time.Minute)
	noErr(t, s.TouchSession(ctx, ch, seen, exp))
	noErr(t, s.StepUpSession(ctx, ch, up))
	want := cs
	want.LastSeen, want.Expires, want.SteppedUp, want.TOTPEnrolled = seen, exp, up, true
	if got, err := s.Session(ctx, ch); err != nil || cmp.Diff(want, got) != "" {
		t.Errorf("session after touch, step-up and enrolment (-want +got):\n%s (err %v)", cmp.Diff(want, got), err)
	}

	// A staff session carries the role of its staff member.
	ss := identity.Session{Realm: identity.RealmStaff, Staff: st.ID, CSRF: "csrf-2",
		Created: idT0, Expires: idT0.Add(time.Hour), LastSeen: idT0}
	sh := idHashOf("staff-token")
	noErr(t, s.CreateSession(ctx, sh, ss))
	ss.Role = identity.Compliance
	if got, err := s.Session(ctx, sh); err != nil || cmp.Diff(ss, got) != "" {
		t.Errorf("staff session (-want +got):\n%s (err %v)", cmp.Diff(ss, got), err)
	}

	noErr(t, s.DeleteSession(ctx, ch))
	if err := s.DeleteSession(ctx, ch); err != nil {
		t.Errorf("deleting a deleted session: %v, want nil", err)
	}
	unknown := idHashOf("no-such-token")
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"SessionDeleted", func() error { _, err := s.Session(ctx, ch); return err }()},
		{"SessionUnknown", func() error { _, err := s.Session(ctx, unknown); return err }()},
		{"TouchUnknown", s.TouchSession(ctx, unknown, idT0, idT0)},
		{"StepUpUnknown", s.StepUpSession(ctx, unknown, idT0)},
	} {
		if !errors.Is(tc.err, identity.ErrNoSession) {
			t.Errorf("%s: got %v, want ErrNoSession", tc.name, tc.err)
		}
	}
	if _, err := s.Session(ctx, sh); err != nil {
		t.Errorf("deleting one session touched another: %v", err)
	}
}

func identitySessionSweep(t *testing.T, open IdentityOpener) {
	ctx, s := context.Background(), open(t)
	a := mustCustomer(t, s, idCustomer(1))
	b := mustCustomer(t, s, idCustomer(2))
	st := mustStaff(t, s, "ops@bank.example", identity.Analyst)
	type sess struct {
		token string
		s     identity.Session
	}
	mk := func(token string, realm identity.Realm, id int64, expires time.Duration) sess {
		x := identity.Session{Realm: realm, CSRF: "c-" + token, Created: idT0, LastSeen: idT0, Expires: idT0.Add(expires)}
		if realm == identity.RealmStaff {
			x.Staff = bankbridge.StaffID(id)
		} else {
			x.Customer = bankbridge.CustomerID(id)
		}
		noErr(t, s.CreateSession(ctx, idHashOf(token), x))
		return sess{token, x}
	}
	all := []sess{
		mk("a-expired", identity.RealmCustomer, int64(a.ID), time.Minute),
		mk("a-live-1", identity.RealmCustomer, int64(a.ID), time.Hour),
		mk("a-live-2", identity.RealmCustomer, int64(a.ID), 2*time.Hour),
		mk("b-at-now", identity.RealmCustomer, int64(b.ID), 10*time.Minute), // expires exactly at the sweep
		mk("b-live", identity.RealmCustomer, int64(b.ID), time.Hour),
		// In a fresh store the staff member's id equals customer a's: deleting a's sessions must not touch it.
		mk("staff-live", identity.RealmStaff, int64(st.ID), time.Hour),
	}
	n, err := s.DeleteExpiredSessions(ctx, idT0.Add(10*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("DeleteExpiredSessions = %d, %v; want 2", n, err)
	}
	n, err = s.DeleteSessions(ctx, identity.Principal{Realm: identity.RealmCustomer, ID: int64(a.ID)})
	if err != nil || n != 2 {
		t.Errorf("DeleteSessions(customer a) = %d, %v; want 2", n, err)
	}
	var left []string
	for _, x := range all {
		if _, err := s.Session(ctx, idHashOf(x.token)); err == nil {
			left = append(left, x.token)
		} else if !errors.Is(err, identity.ErrNoSession) {
			t.Fatal(err)
		}
	}
	wantLeft := []string{"b-live", "staff-live"}
	if d := cmp.Diff(wantLeft, left); d != "" {
		t.Errorf("sessions left (-want +got):\n%s", d)
	}
}

// BenchmarkImportCustomers measures identity.Store.ImportCustomers with n
// customers per call into one growing table, and reports rows/s. Run with
// -benchtime=1x for a quick figure, e.g. n = 100000 for the demo seed's size.
func BenchmarkImportCustomers(b *testing.B, s identity.Store, n int) {
	ctx := context.Background()
	in := make([]identity.Customer, n)
	round := 0
	var rows int
	for b.Loop() {
		b.StopTimer()
		for i := range in {
			in[i] = idCustomer(i)
			in[i].Email = fmt.Sprintf("r%d-c%d@example.com", round, i)
		}
		round++
		b.StartTimer()
		out, err := s.ImportCustomers(ctx, in, idHash)
		if err != nil {
			b.Fatal(err)
		}
		rows += len(out)
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
