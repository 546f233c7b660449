package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/google/go-cmp/cmp"
)

// GuardOpener opens a fresh, empty login guard for one test.
type GuardOpener func(t testing.TB) identity.Guard

// Guard runs the identity.Guard conformance suite against the engine open
// returns.
func Guard(t *testing.T, open GuardOpener) {
	t.Run("FailuresCountedByClientAndInAll", func(t *testing.T) { t.Parallel(); guardCounts(t, open) })
	t.Run("ConcurrentFailuresAllCounted", func(t *testing.T) { t.Parallel(); guardConcurrent(t, open) })
	t.Run("FailuresByClientMostFirst", func(t *testing.T) { t.Parallel(); guardByClient(t, open) })
	t.Run("PurgeDeletesOnlyOlder", func(t *testing.T) { t.Parallel(); guardPurge(t, open) })
	t.Run("DevicesRememberedFailedAndReset", func(t *testing.T) { t.Parallel(); guardDevices(t, open) })
}

func guardCounts(t *testing.T, open GuardOpener) {
	ctx, g := context.Background(), open(t)
	for i, c := range []string{"203.0.113.7", "203.0.113.7", "198.51.100.1", ""} {
		noErr(t, g.RecordLoginFailure(ctx, c, idT0.Add(time.Duration(i)*time.Minute)))
	}
	for _, tc := range []struct {
		client      string
		since       time.Time
		from, total int
	}{
		{"203.0.113.7", idT0, 2, 4},
		{"203.0.113.7", idT0.Add(time.Minute), 1, 3}, // since is inclusive
		{"198.51.100.1", idT0.Add(2 * time.Minute), 1, 2},
		{"192.0.2.1", idT0, 0, 4},
		{"", idT0.Add(3 * time.Minute), 1, 1},
		{"203.0.113.7", idT0.Add(time.Hour), 0, 0},
	} {
		from, total, err := g.CountLoginFailures(ctx, tc.client, tc.since)
		if err != nil || from != tc.from || total != tc.total {
			t.Errorf("CountLoginFailures(%q, +%v) = %d, %d, %v; want %d, %d", tc.client, tc.since.Sub(idT0), from, total, err, tc.from, tc.total)
		}
	}
}

func guardConcurrent(t *testing.T, open GuardOpener) {
	ctx, g := context.Background(), open(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if err := g.RecordLoginFailure(ctx, "203.0.113.9", idT0.Add(time.Duration(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if from, total, err := g.CountLoginFailures(ctx, "203.0.113.9", idT0); err != nil || from != 20 || total != 20 {
		t.Errorf("after 20 concurrent failures: %d, %d, %v", from, total, err)
	}
}

func guardByClient(t *testing.T, open GuardOpener) {
	ctx, g := context.Background(), open(t)
	rec := func(c string, at time.Time) {
		noErr(t, g.RecordLoginFailure(ctx, c, at))
	}
	rec("old", idT0.Add(-time.Hour)) // before since: not listed
	for i := range 3 {
		rec("a", idT0.Add(time.Duration(i)*time.Second))
	}
	rec("b", idT0.Add(time.Minute))
	rec("c", idT0.Add(2*time.Minute))
	got, err := g.LoginFailuresByClient(ctx, idT0, 2)
	noErr(t, err)
	want := []identity.ClientFailures{{Client: "a", Failures: 3, Last: idT0.Add(2 * time.Second)}, {Client: "c", Failures: 1, Last: idT0.Add(2 * time.Minute)}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("LoginFailuresByClient (-want +got):\n%s", d)
	}
}

func guardPurge(t *testing.T, open GuardOpener) {
	ctx, g := context.Background(), open(t)
	for i := range 4 {
		noErr(t, g.RecordLoginFailure(ctx, "x", idT0.Add(time.Duration(i)*time.Hour)))
	}
	n, err := g.PurgeLoginFailures(ctx, idT0.Add(2*time.Hour))
	if err != nil || n != 2 {
		t.Fatalf("PurgeLoginFailures = %d, %v; want 2", n, err)
	}
	if _, total, _ := g.CountLoginFailures(ctx, "x", idT0.Add(-time.Hour)); total != 2 {
		t.Errorf("%d failures left, want 2", total)
	}
}

func guardDevices(t *testing.T, open GuardOpener) {
	ctx, g := context.Background(), open(t)
	h := sha256.Sum256([]byte("device token"))
	if _, err := g.Device(ctx, h[:]); !errors.Is(err, identity.ErrNoDevice) {
		t.Fatalf("unknown device: %v, want ErrNoDevice", err)
	}
	if err := g.DeviceFailed(ctx, h[:]); err != nil {
		t.Fatalf("DeviceFailed on an unknown device: %v", err)
	}
	p := identity.Principal{Realm: identity.RealmCustomer, ID: 42}
	noErr(t, g.RememberDevice(ctx, p, h[:], idT0))
	for range 2 {
		noErr(t, g.DeviceFailed(ctx, h[:]))
	}
	got, err := g.Device(ctx, h[:])
	if d := cmp.Diff(identity.Device{Principal: p, Failures: 2, LastUsed: idT0}, got); err != nil || d != "" {
		t.Errorf("Device (-want +got):\n%s%v", d, err)
	}
	// A success remembers it again: failures reset, last use moves.
	noErr(t, g.RememberDevice(ctx, p, h[:], idT0.Add(time.Hour)))
	got, err = g.Device(ctx, h[:])
	if d := cmp.Diff(identity.Device{Principal: p, Failures: 0, LastUsed: idT0.Add(time.Hour)}, got); err != nil || d != "" {
		t.Errorf("Device after a success (-want +got):\n%s%v", d, err)
	}
}
