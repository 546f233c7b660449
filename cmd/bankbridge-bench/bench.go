package main

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/jackc/pgx/v5"
)

func benchCmd(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && args[0] == "audit" {
		return benchAudit(ctx, e, args[1:])
	}
	if len(args) > 0 && args[0] == "insights" {
		return benchInsights(ctx, e, args[1:])
	}
	if len(args) > 0 && args[0] == "api-client" {
		return apiClientCmd(ctx, e)
	}
	if len(args) > 0 && args[0] == "api" {
		return benchAPI(ctx, e, args[1:])
	}
	if len(args) > 0 && args[0] == "messenger" {
		return benchMessenger(ctx, e, args[1:])
	}
	if len(args) > 0 && args[0] == "alerts" {
		return benchAlerts(ctx, e, args[1:])
	}
	if len(args) > 0 && args[0] == "rails" {
		return benchRails(ctx, e, args[1:])
	}
	if len(args) > 0 && args[0] == "oauth" {
		return benchOAuth(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] != "ledger" {
		return app.UsageError("usage: bankbridge-bench ledger [--clients N] [--accounts N] [--duration D] [--database URL] [--json]")
	}
	var c app.Config
	fs := flag.NewFlagSet("bench ledger", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	clients := fs.Int("clients", 256, "concurrent clients, each waiting for its transfer before sending the next")
	accounts := fs.Int("accounts", 1000, "customer accounts transfers move between")
	duration := fs.Duration("duration", 10*time.Second, "how long to post transfers")
	asJSON := fs.Bool("json", false, "print one JSON object")
	keys := fs.String("keys", "ordered", "idempotency keys: ordered (time-prefixed, like UUIDv7) or random (like UUIDv4)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := app.Parse(fs, args[1:], &c); err != nil {
		return err
	}
	if *clients < 1 || *accounts < 2 || *duration <= 0 || (*keys != "ordered" && *keys != "random") {
		return app.UsageError("--clients must be at least 1, --accounts at least 2, --duration positive, --keys ordered or random")
	}
	// A benchmark never writes into real data: SQLite goes to a temporary
	// file, PostgreSQL to a fresh schema dropped at the end.
	cleanup, err := benchDatabase(ctx, &c)
	if err != nil {
		return err
	}
	defer cleanup()
	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.Close()
	b.TuneProcs(e.getenv) // as serve runs
	svc := ledger.New(b.Ledger, b.LedgerOptions())
	defer svc.Close()

	ids, err := benchAccounts(ctx, b.Ledger, svc, *accounts)
	if err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	res, err := benchTransfers(ctx, svc, ids, *clients, *duration, *keys)
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	res.Engine, res.Keys = b.Engine, *keys
	rep, err := b.Ledger.Verify(ctx)
	if err != nil {
		return err
	}
	res.Verified = rep.OK()
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(res)
	}
	fmt.Fprintf(e.stdout, "engine=%s clients=%d accounts=%d keys=%s duration=%s\ntransfers=%d refused=%d errors=%d\ntransfers/s=%.0f p50=%.2fms p99=%.2fms\nledger verify: %v\n",
		res.Engine, res.Clients, *accounts, res.Keys, *duration, res.Transfers, res.Refused, res.Errors, res.PerSec, res.P50, res.P99, okWord(res.Verified))
	if !res.Verified {
		return errors.New("ledger verify failed after the benchmark")
	}
	return nil
}

func okWord(ok bool) string {
	if ok {
		return "OK"
	}
	return "FAILED"
}

type benchResult struct {
	Engine    string  `json:"engine"`
	Transfers int     `json:"transfers"`
	Clients   int     `json:"clients"`
	PerSec    float64 `json:"transfers_per_sec"`
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	Refused   int     `json:"refused"`
	Errors    int     `json:"errors"`
	Verified  bool    `json:"verified"`
	Keys      string  `json:"keys"`
}

func benchDatabase(ctx context.Context, c *app.Config) (func(), error) {
	if c.Database == "" {
		dir, err := os.MkdirTemp("", "bankbridge-bench-")
		if err != nil {
			return nil, err
		}
		c.Data = dir
		return func() { os.RemoveAll(dir) }, nil
	}
	var b [6]byte
	crand.Read(b[:])
	schema := "bench_" + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, c.Database)
	if err != nil {
		return nil, fmt.Errorf("bench: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	base := c.Database
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	c.Database = u.String()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if conn, err := pgx.Connect(ctx, base); err == nil {
			conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(ctx)
		}
	}, nil
}

// benchAccounts opens n customer accounts and funds each from an unbounded
// settlement account, so that refusals are rare and the benchmark measures
// booking, not refusing.
func benchAccounts(ctx context.Context, st ledger.Store, svc *ledger.Service, n int) ([]ledger.AccountID, error) {
	bank, err := st.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "settlement", Currency: "USD", Number: "BENCH-SETTLEMENT", Routing: "021000089", Unbounded: true})
	if err != nil {
		return nil, err
	}
	ids := make([]ledger.AccountID, n)
	for i := range ids {
		a, err := st.CreateAccount(ctx, ledger.Account{Customer: 1, Kind: ledger.Checking, Name: "bench", Currency: "USD", Number: ledger.AccountNumber(fmt.Sprintf("B%011d", i)), Routing: "021000089"})
		if err != nil {
			return nil, err
		}
		ids[i] = a.ID
	}
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i, id := range ids {
		wg.Go(func() {
			if _, _, err := svc.Transfer(ctx, ledger.Move("bench-fund", fmt.Sprint(i), bank.ID, id, 1_000_000_000, "USD", "funding")); err != nil {
				errc <- err
			}
		})
	}
	wg.Wait()
	close(errc)
	return ids, <-errc
}

func benchTransfers(ctx context.Context, svc *ledger.Service, ids []ledger.AccountID, clients int, d time.Duration, keys string) (benchResult, error) {
	type tally struct {
		lat             []time.Duration
		refused, failed int
	}
	tallies := make([]tally, clients)
	deadline := time.Now().Add(d)
	start := time.Now()
	// Idempotency keys: "ordered" keys start with the time in milliseconds,
	// as UUIDv7 and ULID keys do, so they land at the end of the key index;
	// "random" keys (UUIDv4-like) land anywhere in it, dirtying one index
	// page per key in every commit.
	key := func(c, i int) string {
		return fmt.Sprintf("%012x-%04x-%08x", time.Now().UnixMilli(), c, i)
	}
	if keys == "random" {
		key = func(c, i int) string {
			var b [16]byte
			crand.Read(b[:])
			return hex.EncodeToString(b[:])
		}
	}
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(c), uint64(start.UnixNano())))
			t := &tallies[c]
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				x, y := r.IntN(len(ids)), r.IntN(len(ids)-1)
				if y >= x {
					y++
				}
				req := ledger.Move("bench", key(c, i), ids[x], ids[y], ledger.Amount(1+r.IntN(100)), "USD", "bench")
				t0 := time.Now()
				_, _, err := svc.Transfer(ctx, req)
				switch {
				case err == nil:
					t.lat = append(t.lat, time.Since(t0))
				case errors.Is(err, ledger.ErrInsufficientFunds):
					t.refused++
				default:
					t.failed++
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	res := benchResult{Clients: clients}
	for _, t := range tallies {
		all = append(all, t.lat...)
		res.Refused += t.refused
		res.Errors += t.failed
	}
	if len(all) == 0 {
		return res, errors.New("bench: no transfer succeeded")
	}
	slices.Sort(all)
	res.Transfers = len(all)
	res.PerSec = float64(len(all)) / elapsed.Seconds()
	res.P50 = ms(quantile(all, 1, 2))
	res.P99 = ms(quantile(all, 99, 100))
	return res, nil
}

// quantile returns the num/den quantile of sorted latencies (1,2 the
// median; 99,100 the p99; 1,1 the maximum), by the nearest rank below.
func quantile[T any](sorted []T, num, den int) T {
	return sorted[min(len(sorted)-1, len(sorted)*num/den)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
