package stream_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/alerts/stream"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsURL is the machine's NATS server (testdb.NATSURL).
func natsURL(t *testing.T) string { return testdb.NATSURL(t) }

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
	bus := dial(t, ctx, url, stream.Deployment{Cluster: fmt.Sprintf("T%d", time.Now().UnixNano()), Database: "db1"})
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

// dial connects to a deployment's stream and removes the stream when the
// test ends (the machine's NATS server is shared and keeps files).
func dial(t *testing.T, ctx context.Context, url string, d stream.Deployment) *stream.Bus {
	t.Helper()
	bus, err := stream.Dial(ctx, url, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer bus.Close()
		nc, err := nats.Connect(url)
		if err != nil {
			return
		}
		defer nc.Close()
		if js, err := jetstream.New(nc); err == nil {
			js.DeleteStream(context.Background(), bus.StreamName())
		}
	})
	return bus
}

// deposits makes a database with n deposits of amount each to one
// customer: its outbox holds events 1..n.
func deposits(t *testing.T, ctx context.Context, n int, amount ledger.Amount) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	led := ledger.New(db.Ledger(), ledger.Options{})
	defer led.Close()
	settle, _ := db.Ledger().CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "s", Currency: "USD", Number: "1", Routing: "1", Unbounded: true})
	a, err := db.Ledger().CreateAccount(ctx, ledger.Account{Customer: 1, Kind: ledger.Checking, Name: "c", Currency: "USD", Number: "2", Routing: "1"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, _, err := led.Transfer(ctx, ledger.Move("t", fmt.Sprint(i), settle.ID, a.ID, amount, "USD", "in")); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// recorder is a Processor that keeps every event it is given.
type recorder struct {
	mu  sync.Mutex
	evs []ledger.Event
}

func (r *recorder) Process(_ context.Context, evs []ledger.Event, _ ledger.EventSeq) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, evs...)
	return nil
}

func (r *recorder) len() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.evs) }

// Two deployments on one NATS server, with the same event sequences (1..n
// each): each consumer sees exactly its own deployment's events, all of
// them, once; neither stream drops the other's events as duplicates.
func TestTwoClustersOnOneServerStayApart(t *testing.T) {
	t.Parallel()
	url := natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 40
	stamp := time.Now().UnixNano()
	type deployment struct {
		db     *sqlite.DB
		bus    *stream.Bus
		amount ledger.Amount
		got    recorder
	}
	deps := []*deployment{{amount: 100}, {amount: 200}}
	for i, d := range deps {
		d.db = deposits(t, ctx, n, d.amount)
		d.bus = dial(t, ctx, url, stream.Deployment{Cluster: fmt.Sprintf("T%d-%d", stamp, i), Database: fmt.Sprint("db", i)})
		if got, err := d.bus.RelayOnce(ctx, d.db.Ledger(), d.db.Alerts(), 1000); err != nil || got != n {
			t.Fatalf("deployment %d relayed %d, %v", i, got, err)
		}
	}
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, d := range deps {
		wg.Go(func() { d.bus.Consume(cctx, &d.got, 7) })
	}
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if deps[0].got.len() >= n && deps[1].got.len() >= n {
			break
		}
	}
	time.Sleep(100 * time.Millisecond) // room for a stray event of the other deployment to show
	stop()
	wg.Wait()
	for i, d := range deps {
		if msgs, err := d.bus.Messages(ctx); err != nil || msgs != n {
			t.Errorf("deployment %d: stream holds %d messages, want %d, %v", i, msgs, n, err)
		}
		seen := map[ledger.EventSeq]int{}
		for _, e := range d.got.evs {
			seen[e.Seq]++
			if e.Amount() != d.amount {
				t.Errorf("deployment %d consumed event %d of %d, another deployment's", i, e.Seq, e.Amount())
			}
		}
		for seq := ledger.EventSeq(1); seq <= n; seq++ {
			if seen[seq] != 1 {
				t.Errorf("deployment %d: event %d consumed %d times", i, seq, seen[seq])
			}
		}
	}
}

// A second database under a cluster name another database's stream uses
// is refused, naming both: it would otherwise mix two banks' events.
func TestDialRefusesAnotherDatabasesCluster(t *testing.T) {
	t.Parallel()
	url := natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cluster := fmt.Sprintf("T%d", time.Now().UnixNano())
	dial(t, ctx, url, stream.Deployment{Cluster: cluster, Database: "bbfirst"})
	again, err := stream.Dial(ctx, url, stream.Deployment{Cluster: cluster, Database: "bbfirst"}, nil)
	if err != nil {
		t.Fatalf("the same database again: %v", err)
	}
	again.Close()
	other, err := stream.Dial(ctx, url, stream.Deployment{Cluster: cluster, Database: "bbsecond"}, nil)
	if err == nil {
		other.Close()
		t.Fatal("a second database took over the cluster's stream")
	}
	for _, want := range []string{"bbfirst", "bbsecond", cluster} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not name %s", err, want)
		}
	}
}

func TestValidCluster(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"prod", "bank-a_test", "bb0123456789abcdef", strings.Repeat("x", stream.MaxCluster)} {
		if err := stream.ValidCluster(ok); err != nil {
			t.Errorf("ValidCluster(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a.b", "a*", "a>", "a b", "-a", "_a", "a/b", "bänk", strings.Repeat("x", stream.MaxCluster+1)} {
		if err := stream.ValidCluster(bad); err == nil {
			t.Errorf("ValidCluster(%q) accepted it", bad)
		}
	}
}

// Two instances consume one stream; one lacks the channel the customers
// linked (off there, as when it registered the messenger partner second).
// Every alert still reaches the channel exactly once: the instance without
// it stores the delivery and leaves it to the one with it.
func TestConsumerWithoutTheChannelLeavesDeliveriesToOneWithIt(t *testing.T) {
	t.Parallel()
	url := natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 60
	db := deposits(t, ctx, n, 100)
	bus := dial(t, ctx, url, stream.Deployment{Cluster: fmt.Sprintf("T%d", time.Now().UnixNano()), Database: "db1"})
	if got, err := bus.RelayOnce(ctx, db.Ledger(), db.Alerts(), 1000); err != nil || got != n {
		t.Fatalf("relayed %d, %v", got, err)
	}
	with, other := &counter{seen: map[string]int{}}, &counter{seen: map[string]int{}}
	has := alerts.New(db.Alerts(), db.Ledger(), alerts.Options{Channels: map[string]alerts.Channel{"fake": with}, Links: linksAll{}})
	lacks := alerts.New(db.Alerts(), db.Ledger(), alerts.Options{Channels: map[string]alerts.Channel{"other": other}, Links: linksAll{}})
	cctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, svc := range []*alerts.Service{has, lacks} {
		wg.Go(func() { bus.Consume(cctx, svc, 5) })
		wg.Go(func() { svc.RunDispatcher(cctx) })
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		with.mu.Lock()
		got := len(with.seen)
		with.mu.Unlock()
		if got == n {
			break
		}
	}
	stop()
	wg.Wait()
	if len(with.seen) != n {
		t.Errorf("%d of %d alerts reached the channel", len(with.seen), n)
	}
	for id, k := range with.seen {
		if k != 1 {
			t.Errorf("delivery %s sent %d times", id, k)
		}
	}
	if len(other.seen) != 0 {
		t.Errorf("%d deliveries went to a channel nobody linked", len(other.seen))
	}
	if dead, err := has.DeadLetters(ctx, 10); err != nil || len(dead) != 0 {
		t.Errorf("dead letters %+v, %v", dead, err)
	}
	t.Logf("the instance without the channel handed back %d deliveries", lacks.Stats().Released)
}

// failOnce fails its first Process call, then records.
type failOnce struct {
	recorder
	failed bool
}

func (f *failOnce) Process(ctx context.Context, evs []ledger.Event, upto ledger.EventSeq) error {
	f.mu.Lock()
	if !f.failed {
		f.failed = true
		f.mu.Unlock()
		return errors.New("database unavailable")
	}
	f.mu.Unlock()
	return f.recorder.Process(ctx, evs, upto)
}

// A batch whose processing failed is handed back, counted, and processed
// on redelivery: nothing is lost.
func TestFailedBatchIsHandedBackAndRedelivered(t *testing.T) {
	t.Parallel()
	url := natsURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const n = 10
	db := deposits(t, ctx, n, 100)
	bus := dial(t, ctx, url, stream.Deployment{Cluster: fmt.Sprintf("T%d", time.Now().UnixNano()), Database: "db1"})
	if got, err := bus.RelayOnce(ctx, db.Ledger(), db.Alerts(), 1000); err != nil || got != n {
		t.Fatalf("relayed %d, %v", got, err)
	}
	p := &failOnce{}
	cctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); bus.Consume(cctx, p, 100) }()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && p.len() < n; {
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	seen := map[ledger.EventSeq]bool{}
	for _, e := range p.evs {
		seen[e.Seq] = true
	}
	if len(seen) != n {
		t.Errorf("%d of %d events processed after a failed batch", len(seen), n)
	}
	if st := bus.Stats(); st.Naks != 1 {
		t.Errorf("stats %+v, want 1 batch handed back", st)
	}
}
