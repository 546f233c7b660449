package alerts_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// screen is a fake channel kept in files so that it outlives the worker
// process: shown lists each delivery id the customer saw, once (it checks
// by id, as a platform with idempotency keys does); redelivered lists ids
// sent again after a crash, which the customer did not see twice.
type screen struct {
	mu    sync.Mutex
	seen  map[string]bool
	shown *os.File
	again *os.File
}

func openScreen(dir string) (*screen, error) {
	s := &screen{seen: map[string]bool{}}
	for _, id := range readLines(filepath.Join(dir, "shown")) {
		s.seen[id] = true
	}
	var err error
	if s.shown, err = os.OpenFile(filepath.Join(dir, "shown"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err != nil {
		return nil, err
	}
	s.again, err = os.OpenFile(filepath.Join(dir, "redelivered"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	return s, err
}

func (s *screen) Deliver(_ context.Context, _ bankbridge.CustomerID, m alerts.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.shown
	if s.seen[m.ID] {
		f = s.again
	}
	s.seen[m.ID] = true
	_, err := f.WriteString(m.ID + "\n") // one write: a SIGKILL cannot tear it
	return err
}

func readLines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// TestWorkerProcess is the alert worker run as a child process by
// TestWorkerSurvivesSIGKILL; on its own it does nothing.
func TestWorkerProcess(t *testing.T) {
	dir := os.Getenv("BANKBRIDGE_ALERTS_CRASH_DIR")
	if dir == "" {
		t.Skip("run as a child of TestWorkerSurvivesSIGKILL")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := openScreen(dir)
	if err != nil {
		t.Fatal(err)
	}
	svc := alerts.New(db.Alerts(), db.Ledger(), alerts.Options{Channels: map[string]alerts.Channel{"fake": sc},
		Links: allLinked{}, Poll: 5 * time.Millisecond, Batch: 50, Lease: 2 * time.Second, BackoffBase: 100 * time.Millisecond})
	os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600)
	svc.Run(ctx, db.Ledger()) // until killed
}

type allLinked struct{}

func (allLinked) Links(context.Context, bankbridge.CustomerID) ([]alerts.Link, error) {
	return []alerts.Link{{Channel: "fake"}}, nil
}

// TestWorkerSurvivesSIGKILL posts deposits while the alert worker runs in
// another process, kills it with SIGKILL twice in the middle of the load,
// restarts it, and checks at the fake channel that every alert arrived and
// none was shown twice.
func TestWorkerSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	t.Parallel()
	dir := filepath.Dir(testdb.SQLitePath(t))
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bank.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	led := ledger.New(db.Ledger(), ledger.Options{})
	defer led.Close()
	settle, err := db.Ledger().CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "s", Currency: "USD", Number: "1", Routing: "1", Unbounded: true})
	if err != nil {
		t.Fatal(err)
	}
	const customers, deposits = 20, 1500
	accts := make([]ledger.Account, customers)
	for i := range accts {
		if accts[i], err = db.Ledger().CreateAccount(ctx, ledger.Account{Customer: bankbridge.CustomerID(i + 1), Kind: ledger.Checking, Name: "c",
			Currency: "USD", Number: ledger.AccountNumber(fmt.Sprint(1000 + i)), Routing: "1"}); err != nil {
			t.Fatal(err)
		}
	}
	start := func() *exec.Cmd {
		os.Remove(filepath.Join(dir, "ready"))
		cmd := exec.Command(os.Args[0], "-test.run=^TestWorkerProcess$", "-test.v")
		cmd.Env = append(os.Environ(), "BANKBRIDGE_ALERTS_CRASH_DIR="+dir)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	kill := func(cmd *exec.Cmd) {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
	}
	cmd := start()
	defer func() { kill(cmd) }()
	kills := 0
	for i := range deposits {
		if _, _, err := led.Transfer(ctx, ledger.Move("crash", fmt.Sprint(i), settle.ID, accts[i%customers].ID, 100, "USD", "deposit")); err != nil {
			t.Fatal(err)
		}
		if i == deposits/3 || i == 2*deposits/3 {
			// Wait until the worker is mid-flight, then kill it.
			for len(readLines(filepath.Join(dir, "shown"))) < i/4 {
				time.Sleep(5 * time.Millisecond)
			}
			kill(cmd)
			kills++
			cmd = start()
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	var shown []string
	for time.Now().Before(deadline) {
		if shown = readLines(filepath.Join(dir, "shown")); len(shown) >= deposits {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	kill(cmd)
	seen := map[string]int{}
	for _, id := range shown {
		seen[id]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("delivery %s shown %d times", id, n)
		}
	}
	// Every deposit's alert, by its deterministic id.
	evs, err := db.Ledger().Events(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for _, e := range evs {
		for _, p := range e.Postings {
			if p.Account == settle.ID {
				continue
			}
			c := accts[int(p.Account-accts[0].ID)].Customer
			if id := alerts.DeliveryID(alerts.NewAlertID(e.Seq, alerts.Deposit, c), "fake"); seen[id] == 0 {
				missing++
			}
		}
	}
	if missing > 0 || len(evs) != deposits {
		t.Errorf("%d of %d alerts lost (%d events)", missing, deposits, len(evs))
	}
	again := readLines(filepath.Join(dir, "redelivered"))
	t.Logf("%d kills; %d alerts shown once each; %d redeliveries absorbed by the channel's dedupe", kills, len(seen), len(again))
	if strings.Contains(strings.Join(again, ","), ",,") {
		t.Error("torn line")
	}
}
