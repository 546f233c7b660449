package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
)

// lockedBuffer is an io.Writer two goroutines may share with a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTwoInstancesSeedOnce: two instances started at once on an empty
// PostgreSQL database (each with its own data folder, as two machines
// would have) seed the demo bank once; the second waits for the first and
// finds it seeded.
func TestTwoInstancesSeedOnce(t *testing.T) {
	t.Parallel()
	url := testdb.PostgresURL(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	keyFile := filepath.Join(t.TempDir(), "fleet.kek") // one KEK for the fleet, made by whichever starts first
	outs := make([]*lockedBuffer, 2)
	dones := make([]chan error, 2)
	for i := range outs {
		outs[i], dones[i] = &lockedBuffer{}, make(chan error, 1)
		args := []string{"bankbridge", "serve", "--addr", "127.0.0.1:0", "--drain", "0", "--data", t.TempDir(), "--database", url, "--key-file", keyFile, "--demo-customers", "5"}
		go func() {
			dones[i] <- run(ctx, args, func(string) string { return "" }, strings.NewReader(""), outs[i], io.Discard)
		}()
	}
	for i, out := range outs {
		for deadline := time.Now().Add(90 * time.Second); !strings.Contains(out.String(), "listening on"); time.Sleep(20 * time.Millisecond) {
			select {
			case err := <-dones[i]:
				t.Fatalf("instance %d exited: %v\n%s", i, err, out)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("instance %d did not start within 90 s\n%s", i, out)
			}
		}
	}
	seeded := strings.Count(outs[0].String()+outs[1].String(), "seeding the demo bank")
	if seeded != 1 {
		t.Errorf("the demo bank was seeded %d times, want once\n%s\n%s", seeded, outs[0], outs[1])
	}
	cancel()
	for i, done := range dones {
		if err := <-done; err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"bankbridge", "ledger", "verify", "--database", url}, func(string) string { return "" }, nil, &out, io.Discard); err != nil {
		t.Fatalf("ledger verify: %v\n%s", err, out.String())
	}
}

// TestSeedCommandTakesTheSeedingLease: `bankbridge seed` waits for the lease
// serve seeds under, so seeding from the command line while an instance
// seeds the same empty database does not double the bank: it finds the
// bank seeded once the holder is done.
func TestSeedCommandTakesTheSeedingLease(t *testing.T) {
	t.Parallel()
	url := testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open)
	ctx := context.Background()
	b, err := app.OpenBackend(ctx, &app.Config{Database: url})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var out lockedBuffer
	done := make(chan error, 1)
	err = b.Lease.RunExclusive(ctx, seedLease, func(ctx context.Context) error {
		go func() {
			done <- run(context.Background(), []string{"bankbridge", "seed", "--database", url, "--customers", "3", "--days", "2"},
				func(string) string { return "" }, nil, &out, io.Discard)
		}()
		select {
		case err := <-done:
			t.Fatalf("seed finished while another held the seeding lease: %v\n%s", err, out.String())
		case <-time.After(1500 * time.Millisecond):
		}
		// The holder seeds (as serve's seedDemo does under the lease).
		_, err := demo.Seed(ctx, demo.Deps{Identity: identity.New(b.Identity, identity.Options{}), Ledger: b.Ledger}, demo.Options{Customers: 3, Days: 2})
		return err
	})
	if err != nil {
		t.Fatalf("seeding under the lease: %v", err)
	}
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("seed did not go on once the lease was free")
	}
	if !errors.Is(err, demo.ErrSeeded) {
		t.Errorf("seed after the holder seeded: %v, want demo.ErrSeeded\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "Seeded ") {
		t.Errorf("seed wrote a second bank:\n%s", out.String())
	}
	var v bytes.Buffer
	if err := run(ctx, []string{"bankbridge", "ledger", "verify", "--database", url}, func(string) string { return "" }, nil, &v, io.Discard); err != nil {
		t.Fatalf("ledger verify: %v\n%s", err, v.String())
	}
}
