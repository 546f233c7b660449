package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// BenchmarkLedgerApply applies batches of random two-legged transfers
// between 1,000 funded accounts straight to the store, as the Service's one
// batcher does under load. ns/op is per batch; transfers/s is what that
// implies. The machine is shared, so wall time is noisy; cpu-µs/transfer
// (CPU this process used during Apply, SQLite's work included, since it
// runs on the calling thread) is the steadier figure to compare changes
// by. Profile it with
//
//	go test ./store/sqlite -run '^$' -bench LedgerApply -benchtime 40x -cpuprofile cpu.prof
func BenchmarkLedgerApply(b *testing.B) {
	for _, size := range []int{1024, 4096} {
		b.Run(fmt.Sprint(size), func(b *testing.B) { benchApply(b, size) })
	}
}

func benchApply(b *testing.B, size int) {
	const accounts = 1000
	ctx := context.Background()
	s := open(b).Ledger()
	bank, err := s.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "bank", Currency: "USD", Number: "BANK", Routing: "021000021", Unbounded: true})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]ledger.AccountID, accounts)
	fund := make([]ledger.Op, accounts)
	for i := range ids {
		a, err := s.CreateAccount(ctx, ledger.Account{Customer: bankbridge.CustomerID(i%7 + 1), Kind: ledger.Checking, Name: "bench",
			Currency: "USD", Number: ledger.AccountNumber(fmt.Sprintf("B%08d", i)), Routing: "021000021"})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = a.ID
		fund[i] = op(fmt.Sprintf("fund%d", i), bank.ID, a.ID, 1_000_000_000)
	}
	if _, err := s.Apply(ctx, fund, time.Now()); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	seq := 0
	// Keys start with the time, as UUIDv7 keys and `bench ledger` do.
	prefix := fmt.Sprintf("%012x", time.Now().UnixMilli())
	batch := func() []ledger.Op {
		ops := make([]ledger.Op, size)
		for i := range ops {
			from, to := rng.IntN(accounts), rng.IntN(accounts-1)
			if to >= from {
				to++
			}
			seq++
			ops[i] = op(fmt.Sprintf("%s-%012x", prefix, seq), ids[from], ids[to], ledger.Amount(1+rng.IntN(100)))
		}
		return ops
	}
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		ops := batch()
		b.StartTimer()
		c0 := cpuTime(b)
		res, err := s.Apply(ctx, ops, time.Now())
		cpu += cpuTime(b) - c0
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
		}
	}
	b.ReportMetric(float64(size)*float64(b.N)/b.Elapsed().Seconds(), "transfers/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(size*b.N), "cpu-µs/transfer")
	b.StopTimer()
	rep, err := s.Verify(ctx)
	if err != nil || !rep.OK() {
		b.Fatalf("verify: %v %v", err, rep.Problems)
	}
}

func op(key string, from, to ledger.AccountID, amt ledger.Amount) ledger.Op {
	r := ledger.Move("bench", key, from, to, amt, "USD", "bench")
	return ledger.Op{Kind: ledger.OpCreate, Request: r, Hash: r.Hash()}
}

// cpuTime is the CPU time, user and system, the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
