package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"github.com/bankbridge/bankbridge/store/storetest"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
)

// The lease's conformance suite runs with the other stores' suites, on
// both engines (store/sqlstore's TestConformance); these tests are what
// only PostgreSQL's advisory locks do.

func openPG(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url)
	storetest.NoErr(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// TestLeaseTakeover: two instances on one schema; the holder's session is
// killed (as the server does when its process dies); the holder's work is
// cancelled and the other instance holds the lease within seconds.
func TestLeaseTakeover(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	a, b := openPG(t, url).Lease(), openPG(t, url).Lease()
	admin := openPG(t, url)
	var r [4]byte
	rand.Read(r[:])
	name := "takeover-" + hex.EncodeToString(r[:]) // unique across parallel tests: the kill below finds it by name

	aHolds, aStopped, aErr := make(chan struct{}), make(chan time.Time, 1), make(chan error, 1)
	go func() {
		aErr <- a.RunExclusive(context.Background(), name, func(ctx context.Context) error {
			close(aHolds)
			<-ctx.Done()
			aStopped <- time.Now()
			return ctx.Err()
		})
	}()
	<-aHolds
	bHolds, bErr := make(chan time.Time, 1), make(chan error, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		bErr <- b.RunExclusive(ctx, name, func(ctx context.Context) error {
			bHolds <- time.Now()
			<-ctx.Done()
			return nil
		})
	}()
	select {
	case <-bHolds:
		t.Fatal("b holds the lease while a does")
	case <-time.After(time.Second):
	}

	var killed int
	err := admin.Pool().QueryRow(context.Background(), `SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a
JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted WHERE a.application_name = $1`, "bankbridge lease "+name).Scan(&killed)
	if err != nil || killed != 1 {
		t.Fatalf("terminate the holder's session: killed %d, %v", killed, err)
	}
	kill := time.Now()
	select {
	case at := <-aStopped:
		t.Logf("a stopped %s after its session was killed", at.Sub(kill).Round(time.Millisecond))
		if err := <-aErr; !errors.Is(err, postgres.ErrLeaseLost) || bankbridge.ErrorKind(err) != bankbridge.Unavailable {
			t.Errorf("a's RunExclusive = %v, want ErrLeaseLost (Unavailable)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a's work was not cancelled within 5 s of its session being killed")
	}
	select {
	case at := <-bHolds:
		t.Logf("b took over %s after a's session was killed", at.Sub(kill).Round(time.Millisecond))
	case err := <-bErr:
		t.Fatalf("b: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("b did not take over within 5 s")
	}
	cancel()
	if err := <-bErr; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("b: %v", err)
	}
}

// TestLeaseSchemasApart: deployments in two schemas of one database hold
// leases of the same name at once.
func TestLeaseSchemasApart(t *testing.T) {
	t.Parallel()
	one, two := openPG(t, testdb.PostgresURL(t)).Lease(), openPG(t, testdb.PostgresURL(t)).Lease()
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- one.RunExclusive(context.Background(), audit.SealerLease, func(context.Context) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ran := false
	if err := two.RunExclusive(ctx, audit.SealerLease, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Errorf("a second schema's lease while the first's is held: ran %v, err %v", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Error(err)
	}
}
