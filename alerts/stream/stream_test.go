package stream_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/alerts/stream"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// natsURL is the machine's NATS server; BANKBRIDGE_TEST_NATS overrides it.
// Unreachable: skipped locally, a failure in CI.
func natsURL(t *testing.T) string {
	t.Helper()
	url, addr := os.Getenv("BANKBRIDGE_TEST_NATS"), "127.0.0.1:4222"
	if url == "" {
		url = "nats://" + addr
	}
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("NATS at %s is unreachable in CI: %v", addr, err)
		}
		t.Skipf("NATS at %s is unreachable: %v", addr, err)
	}
	c.Close()
	return url
}

type counter struct {
	mu   sync.Mutex
	seen map[string]int
}

func (c *counter) Deliver(_ context.Context, _ bankbridge.CustomerID, m alerts.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[m.ID]++
	return nil
}

type zeroCursor struct{ stream.Cursors }

func (zeroCursor) Cursor(context.Context, string) (ledger.EventSeq, error) { return 0, nil }

func TestRelayAndSharedConsumersOverJetStream(t *testing.T) {
	t.Parallel()
	url := natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	led := ledger.New(db.Ledger(), ledger.Options{})
	defer led.Close()
	settle, _ := db.Ledger().CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "s", Currency: "USD", Number: "1", Routing: "1", Unbounded: true})
	const customers, each = 4, 25
	for c := 1; c <= customers; c++ {
		a, err := db.Ledger().CreateAccount(ctx, ledger.Account{Customer: bankbridge.CustomerID(c), Kind: ledger.Checking, Name: "c", Currency: "USD", Number: ledger.AccountNumber(fmt.Sprint(100 + c)), Routing: "1"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range each {
			if _, _, err := led.Transfer(ctx, ledger.Move("t", fmt.Sprint(c, "-", i), settle.ID, a.ID, 100, "USD", "in")); err != nil {
				t.Fatal(err)
			}
		}
	}
	prefix := fmt.Sprintf("T%d", time.Now().UnixNano())
	bus, err := stream.Dial(ctx, url, prefix)
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Close()
	n, err := bus.RelayOnce(ctx, db.Ledger(), db.Alerts(), 1000)
	if err != nil || n != customers*each {
		t.Fatalf("relayed %d, %v", n, err)
	}
	// A relay that lost its cursor republishes: the stream drops them by id.
	if _, err := bus.RelayOnce(ctx, db.Ledger(), zeroCursor{db.Alerts()}, 1000); err != nil {
		t.Fatal(err)
	}
	if msgs, err := bus.Messages(ctx); err != nil || msgs != customers*each {
		t.Errorf("stream holds %d messages after a republish, want %d (deduplicated by id), %v", msgs, customers*each, err)
	}
	if cur, _ := db.Alerts().Cursor(ctx, stream.RelayName); cur != ledger.EventSeq(customers*each) {
		t.Errorf("relay cursor %d", cur)
	}

	// Two instances' workers share the durable consumer.
	ch := &counter{seen: map[string]int{}}
	lk := linksAll{}
	var wg sync.WaitGroup
	cctx, stop := context.WithCancel(ctx)
	for range 2 {
		svc := alerts.New(db.Alerts(), db.Ledger(), alerts.Options{Channels: map[string]alerts.Channel{"fake": ch}, Links: lk})
		wg.Go(func() { bus.Consume(cctx, svc, 20) })
		wg.Go(func() { svc.RunDispatcher(cctx) })
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ch.mu.Lock()
		got := len(ch.seen)
		ch.mu.Unlock()
		if got == customers*each || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	wg.Wait()
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if len(ch.seen) != customers*each {
		t.Fatalf("%d deposits delivered, want %d", len(ch.seen), customers*each)
	}
	for id, k := range ch.seen {
		if k != 1 {
			t.Errorf("delivery %s sent %d times", id, k)
		}
	}
}

type linksAll struct{}

func (linksAll) Links(context.Context, bankbridge.CustomerID) ([]alerts.Link, error) {
	return []alerts.Link{{Channel: "fake"}}, nil
}
