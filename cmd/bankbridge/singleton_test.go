package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/internal/testdb"
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
