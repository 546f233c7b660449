package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/jackc/pgx/v5"
)

// BenchmarkLedgerApply applies batches of 512 random two-legged transfers
// between 1,000 funded accounts, the shape the ledger Service sends under
// load. ns/op is per batch; transfers/s is what that implies.
//
//	go test ./store/postgres -run '^$' -bench LedgerApply -benchtime 3s
//
// Sequential is one batch at a time (one batcher); Batchers4 keeps four
// batches in flight, as ledger.Options{Batchers: 4} does, so one batch's
// commit overlaps the next one's work.
//
// The machine is shared, so wall time is noisy; pg-cpu-ms/op (CPU the
// benchmark's PostgreSQL backends used per op, from /proc) is the steadier
// figure to compare changes by.
func BenchmarkLedgerApply(b *testing.B) {
	const accounts, size = 1000, 512
	ctx := context.Background()
	u, err := url.Parse(testdb.MigratedPostgresURL(b, postgres.Migrations(), postgres.Open))
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	app := "bench_" + strings.TrimPrefix(u.Path, "/")
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := db.Ledger()
	bank := newAccount(b, s, 0, 0, true)
	ids := make([]ledger.AccountID, accounts)
	fund := make([]ledger.Op, 0, accounts)
	for i := range ids {
		ids[i] = newAccount(b, s, i+1, 0, false)
		fund = append(fund, create("bench", fmt.Sprintf("fund%d", i), bank, ids[i], 1_000_000_000, "fund"))
	}
	for i := 0; i < len(fund); i += size {
		if _, err := s.Apply(ctx, fund[i:min(i+size, len(fund))], time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	var seq atomic.Int64
	batch := func(rng *rand.Rand) []ledger.Op {
		ops := make([]ledger.Op, size)
		for i := range ops {
			from, to := rng.IntN(accounts), rng.IntN(accounts-1)
			if to >= from {
				to++
			}
			ops[i] = create("bench", fmt.Sprintf("k%d", seq.Add(1)), ids[from], ids[to], ledger.Amount(1+rng.IntN(10_000)), "bench transfer")
		}
		return ops
	}
	apply := func(b *testing.B, ops []ledger.Op) {
		res, err := s.Apply(ctx, ops, time.Now())
		if err != nil {
			b.Error(err)
			return
		}
		for _, r := range res {
			if r.Err != nil {
				b.Error(r.Err)
				return
			}
		}
	}
	var ticks0 map[int]int64
	start := func() { ticks0 = backendTicks(b, db, app) }
	report := func(b *testing.B, perOp int) {
		b.ReportMetric(float64(perOp)*float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
		var used int64
		for pid, t := range backendTicks(b, db, app) {
			used += t - ticks0[pid]
		}
		b.ReportMetric(float64(used)*10/float64(b.N), "pg-cpu-ms/op") // 100 ticks/s
	}

	b.Run("Sequential", func(b *testing.B) {
		rng := rand.New(rand.NewPCG(1, 2))
		start()
		for b.Loop() {
			b.StopTimer()
			ops := batch(rng)
			b.StartTimer()
			apply(b, ops)
		}
		report(b, size)
	})

	b.Run("Batchers4", func(b *testing.B) {
		const n = 4
		rngs := make([]*rand.Rand, n)
		for i := range rngs {
			rngs[i] = rand.New(rand.NewPCG(uint64(i+10), 3))
		}
		start()
		for b.Loop() {
			b.StopTimer()
			ops := make([][]ledger.Op, n)
			for i := range ops {
				ops[i] = batch(rngs[i])
			}
			b.StartTimer()
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { apply(b, ops[i]) })
			}
			wg.Wait()
		}
		report(b, n*size)
	})
	b.StopTimer()
	verifyOK(b, s)
}

// backendTicks returns the CPU time (user+system, in clock ticks of 10ms)
// each PostgreSQL backend of application app has used, read from
// /proc/<pid>/stat; the server runs on this machine in tests.
func backendTicks(b *testing.B, db *postgres.DB, app string) map[int]int64 {
	rows, err := db.Pool().Query(context.Background(), `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		b.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		b.Fatal(err)
	}
	out := map[int]int64{}
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Fatalf("PostgreSQL must run on this machine to measure its CPU: %v", err)
		}
		// Fields after the command name, which ends at the last ')':
		// state is field 3, utime 14, stime 15.
		f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[int(pid)] = ut + st
	}
	return out
}
