package main

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/dataapi/dataapitest"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
)

// apiScenario is one line of `bench api --json`.
type apiScenario struct {
	Name   string  `json:"name"`
	Engine string  `json:"engine"`
	Target int     `json:"target_rps"`
	Calls  int     `json:"calls"`
	RPS    float64 `json:"rps"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
	P999   float64 `json:"p999_ms"`
	// ServerP50 and ServerP99 are the bank's side alone: from the moment
	// the handler is called to when it returns, without the client's
	// scheduling and connection handling, which share the same two cores.
	ServerP50 float64 `json:"server_p50_ms"`
	ServerP99 float64 `json:"server_p99_ms"`
	Errors    int     `json:"errors"`
	Seconds   float64 `json:"seconds"`
	// StealPct is the share of the machine's CPU time the hypervisor took
	// during the measurement (see stealPct); -1 when unknown.
	StealPct float64 `json:"steal_pct"`
	// CPUSlowPct is the share of a canary's probes during the measurement
	// that ran more than three times slower, in CPU time, than when quiet
	// (bench_canary.go); -1 when unknown.
	CPUSlowPct float64 `json:"cpu_slow_pct"`
	// ProcessCPUPerCall is the CPU time, user and system, the bank's
	// process spent per completed call during a scenario, in µs: what a
	// call costs the bank, whatever the wait. The partner's calls come from
	// a process of its own (bench_api_client.go); the canary's probes are
	// taken out. Scenarios only.
	ProcessCPUPerCall float64 `json:"process_cpu_us_per_call,omitempty"`
	// ClientCPUPerCall is the same for the partner's process (the load
	// generator), apart. Scenarios only.
	ClientCPUPerCall float64 `json:"client_cpu_us_per_call,omitempty"`
	// VerifyP50 is cpu_p256_verify's p50 in the same run, in µs, and
	// PerVerify the scenario's process CPU per call over it: how many P-256
	// verifications a call costs (the goal for balances: at most 4).
	// Scenarios only.
	VerifyP50 float64 `json:"cpu_p256_verify_p50_us,omitempty"`
	PerVerify float64 `json:"cpu_per_call_over_verify,omitempty"`
	// PerBalances is a transactions scenario's process CPU per call over
	// balances_at_tx_rate's in the same run: balances calls at the same
	// offered rate (the goal for a page of 100: at most 3). A call's CPU
	// depends on the rate as much as on its work: at a low rate each call
	// wakes the server alone and pays a commit of its own (balances cost
	// 285 µs a call at 2,000/s, 1,116 µs at 200/s and 2,955 µs at 20/s in
	// one run), so a page at --tx-rate is compared with balances at
	// --tx-rate. PerBalancesAtRate is the same page over the balances
	// scenario at --rate, the ratio the issue first named.
	PerBalances       float64 `json:"cpu_per_call_over_balances,omitempty"`
	PerBalancesAtRate float64 `json:"cpu_per_call_over_balances_at_rate,omitempty"`
	// PerFloor is balances' process CPU per call over floor_http_verify's
	// in the same run (floorServer): what the bank adds to Go's HTTP
	// server and the one verification a call needs.
	PerFloor float64 `json:"cpu_per_call_over_floor,omitempty"`
	// FirstError is the first failure, if any.
	FirstError string `json:"first_error,omitempty"`
	firstErr   error
}

// apiBenchFlags are the knobs of `bench api`.
type apiBenchFlags struct {
	customers, linked, transactions, rate, txRate int
	duration, warmup                              time.Duration
	asJSON                                        bool
	cpuprofile                                    string
}

// benchAPI measures the data API over loopback HTTP against the bank's
// real HTTP surface (app.NewServer, with the authorization server and the data
// API built by app.PartnerAPI as serve builds them) on a throw-away database
// seeded with --customers customers and one account holding
// --transactions transactions. Every call carries a DPoP-bound access token
// and its own proof, signed by the client before the run starts (see
// prepare), and passes the whole path:
// token and proof, consent, partner and customer rate limits, the audit
// record (durable before the answer), the read. Load is open-loop: calls
// start on a fixed schedule whatever the server's pace, and latency is
// measured from when a call was due, so a slow server is not hidden by a
// client that waits for it (coordinated omission). The partner's calls are
// sent by a process of its own (bench_api_client.go), so that the bank's
// process CPU per call counts the bank alone. See docs/dataapi.md.
func benchAPI(ctx context.Context, e env, args []string) error {
	var c app.Config
	var f apiBenchFlags
	fs := flag.NewFlagSet("bench api", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	fs.IntVar(&f.customers, "customers", 100000, "customers seeded, each with a funded checking account")
	fs.IntVar(&f.linked, "linked", 200, "customers who link the partner app (one consent and token each); balance calls spread over them")
	fs.IntVar(&f.transactions, "transactions", 1000000, "transactions on the account the transactions scenarios page through")
	fs.IntVar(&f.rate, "rate", 2000, "balances scenario: calls started per second (open loop)")
	fs.IntVar(&f.txRate, "tx-rate", 200, "transactions scenarios: calls started per second (open loop)")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "how long each scenario is measured")
	fs.DurationVar(&f.warmup, "warmup", 2*time.Second, "load before each scenario's measurement, not counted")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON object per scenario")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the bank's process during each scenario's measured window (the partner's calls come from a process of their own) to this path with the scenario's name appended (FILE.balances, ...)")
	if err := app.Parse(fs, args, &c); err != nil {
		return err
	}
	if f.customers < 1 || f.linked < 1 || f.linked > f.customers || f.transactions < 1 || f.rate < 1 || f.txRate < 1 || f.duration <= 0 || f.warmup < 0 {
		return app.UsageError("--customers, --transactions, --rate and --tx-rate must be at least 1, --linked between 1 and --customers, --duration positive")
	}
	if f.duration > maxSigned || f.warmup > maxSigned {
		// Proofs are signed before a run starts (see prepare) and must
		// still be within the server's 60-second iat window when sent.
		return app.UsageError(fmt.Sprintf("--duration and --warmup can be at most %s: the calls' DPoP proofs are signed before the run starts", maxSigned))
	}
	// Never into real data: a temporary SQLite file, or a fresh PostgreSQL
	// schema dropped at the end.
	cleanup, err := benchDatabase(ctx, &c)
	if err != nil {
		return err
	}
	defer cleanup()
	ab, err := newAPIBench(ctx, e, &c, f)
	if err != nil {
		return err
	}
	defer ab.close()

	type plan struct {
		name string
		rate int
		next func(*mrand.Rand) (apiTarget, string)
		base string // where the calls go; the bank when empty
	}
	// The disk first, alone, for the same time as each scenario: the floor
	// under every call's wait for its record (see benchDisk); then the
	// CPU's speed, back to back and on waking (benchCPU). SQLite's files
	// are in c.Data; a PostgreSQL server on this machine writes to the
	// disk the system's temporary folder is on (docs/dataapi.md).
	dir := ""
	if c.Database == "" {
		dir = c.Data
	}
	// Each line runs with a canary (bench_canary.go) for its cpu_slow_pct.
	quiet := calibrateCanary()
	var out []apiScenario
	for _, run := range []func() (apiScenario, error){
		func() (apiScenario, error) { return benchDisk(ctx, dir, ab.engine, f.duration) },
		func() (apiScenario, error) {
			return benchCPU(ctx, ab.engine, "cpu_p256_verify", min(cpuBaseline, f.duration), 0)
		},
		func() (apiScenario, error) {
			return benchCPU(ctx, ab.engine, "cpu_p256_verify_paced", min(cpuBaseline, f.duration), cpuPace)
		},
	} {
		c := startCanary(quiet)
		s, err := run()
		s.CPUSlowPct = c.finish()
		if err != nil {
			return err
		}
		out = append(out, s)
	}
	floor, stopFloor, err := floorServer()
	if err != nil {
		return err
	}
	defer stopFloor()
	var verifyP50, floorCPU, balancesCPU, balancesTxRateCPU float64 // µs
	for _, s := range out {
		if s.Name == "cpu_p256_verify" {
			verifyP50 = s.P50 * 1e3
		}
	}
	for _, p := range []plan{
		{"floor_http_verify", f.rate, ab.balances, floor},
		{"balances", f.rate, ab.balances, ""},
		{"balances_at_tx_rate", f.txRate, ab.balances, ""},
		{"transactions_first_page", f.txRate, ab.firstPage, ""},
		{"transactions_deep_page", f.txRate, ab.deepPage, ""},
	} {
		warm, err := ab.prepare(int(f.warmup*time.Duration(p.rate)/time.Second), p.next)
		if err != nil {
			return err
		}
		calls, err := ab.prepare(int(f.duration*time.Duration(p.rate)/time.Second), p.next)
		if err != nil {
			return err
		}
		var cpu0 cpuTimes
		var c *canary
		var prof *os.File
		var profErr error
		s, proc, err := ab.remoteLoop(ctx, cmp.Or(p.base, ab.issuer), p.rate, warm, calls, func() {
			ab.served.take()
			if f.cpuprofile != "" {
				// One profile per scenario, of its measured window only.
				if prof, profErr = os.Create(f.cpuprofile + "." + p.name); profErr == nil {
					profErr = pprof.StartCPUProfile(prof)
				}
			}
			cpu0 = readCPUTimes()
			c = startCanary(quiet)
		})
		if prof != nil {
			pprof.StopCPUProfile()
			if cerr := prof.Close(); profErr == nil {
				profErr = cerr
			}
		}
		if err == nil {
			err = profErr
		}
		if err != nil {
			return err
		}
		s.CPUSlowPct = c.finish()
		s.StealPct = stealPct(cpu0, readCPUTimes())
		if proc -= c.cpu; proc > 0 && s.Calls > 0 {
			s.ProcessCPUPerCall = float64(proc/time.Duration(s.Calls)) / 1e3
		}
		s.Name, s.Engine = p.name, ab.engine
		// Ratios within this run, which the machine's bursts of slowness
		// move far less than the absolute figures.
		if s.ProcessCPUPerCall > 0 && verifyP50 > 0 {
			s.VerifyP50 = verifyP50
			s.PerVerify = s.ProcessCPUPerCall / verifyP50
		}
		switch {
		case p.name == "floor_http_verify":
			floorCPU = s.ProcessCPUPerCall
		case p.name == "balances":
			balancesCPU = s.ProcessCPUPerCall
			if floorCPU > 0 {
				s.PerFloor = s.ProcessCPUPerCall / floorCPU
			}
		case p.name == "balances_at_tx_rate":
			balancesTxRateCPU = s.ProcessCPUPerCall
		case s.ProcessCPUPerCall > 0 && balancesCPU > 0 && balancesTxRateCPU > 0:
			s.PerBalances = s.ProcessCPUPerCall / balancesTxRateCPU
			s.PerBalancesAtRate = s.ProcessCPUPerCall / balancesCPU
		}
		if d := ab.served.take(); len(d) > 0 {
			s.ServerP50, s.ServerP99 = ms(quantile(d, 1, 2)), ms(quantile(d, 99, 100))
		}
		if s.Calls == 0 {
			return fmt.Errorf("bench api: %s: no call succeeded: %v", p.name, s.firstErr)
		}
		out = append(out, s)
	}
	if f.asJSON {
		enc := json.NewEncoder(e.stdout)
		for _, s := range out {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Fprintf(e.stdout, "engine=%s customers=%d linked=%d transactions=%d duration=%s (loopback HTTP, DPoP, consent, audit)\n",
		ab.engine, f.customers, f.linked, f.transactions, f.duration)
	fmt.Fprintf(e.stdout, "seed: customers %s, transactions %s\n", ab.seedCustomers.Round(time.Millisecond), ab.seedTransactions.Round(time.Millisecond))
	for _, s := range out {
		fmt.Fprintf(e.stdout, "%-24s target %5d/s  done %7.0f/s  p50=%.3fms  p99=%.3fms  p99.9=%.3fms  (server p50=%.3fms p99=%.3fms)  errors=%d  steal=%.1f%%  cpu slow=%.1f%%",
			s.Name, s.Target, s.RPS, s.P50, s.P99, s.P999, s.ServerP50, s.ServerP99, s.Errors, s.StealPct, s.CPUSlowPct)
		if s.ProcessCPUPerCall > 0 {
			fmt.Fprintf(e.stdout, "  cpu/call=%.0fµs (%.1f verifies", s.ProcessCPUPerCall, s.PerVerify)
			if s.PerFloor > 0 {
				fmt.Fprintf(e.stdout, ", %.1f floors", s.PerFloor)
			}
			if s.PerBalances > 0 {
				fmt.Fprintf(e.stdout, ", %.1f balances at the same rate, %.1f at --rate", s.PerBalances, s.PerBalancesAtRate)
			}
			fmt.Fprint(e.stdout, ")")
		}
		fmt.Fprintln(e.stdout)
		if s.firstErr != nil {
			fmt.Fprintf(e.stdout, "  first error: %v\n", s.firstErr)
		}
	}
	return nil
}

// handlerTimes records how long the server's handler took for each call.
type handlerTimes struct {
	mu sync.Mutex
	d  []time.Duration
}

func (h *handlerTimes) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next.ServeHTTP(w, r)
		took := time.Since(start)
		h.mu.Lock()
		h.d = append(h.d, took)
		h.mu.Unlock()
	})
}

// take returns the times recorded since the last take, sorted, and forgets them.
func (h *handlerTimes) take() []time.Duration {
	h.mu.Lock()
	d := h.d
	h.d = nil
	h.mu.Unlock()
	slices.Sort(d)
	return d
}

// apiTarget is one linked customer's token and the partner's id of the
// account it reads.
type apiTarget struct {
	token, account string
}

// apiBench is the bank under test and its one partner.
type apiBench struct {
	engine           string
	issuer           string
	partner          *dataapitest.Partner
	targets          []apiTarget // balances
	heavy            apiTarget   // the account with --transactions transactions
	oldest           time.Time   // its first transaction
	served           handlerTimes
	close            func()
	seedCustomers    time.Duration
	seedTransactions time.Duration
}

const benchAPIPartner = "bench-app"

func newAPIBench(ctx context.Context, e env, c *app.Config, f apiBenchFlags) (_ *apiBench, err error) {
	b, err := app.OpenBackend(ctx, c)
	if err != nil {
		return nil, err
	}
	b.TuneProcs(e.getenv) // as serve runs
	var closers []func()
	ab := &apiBench{engine: b.Engine}
	ab.close = func() {
		for _, fn := range slices.Backward(closers) {
			fn()
		}
	}
	closers = append(closers, func() { b.Close() })
	defer func() {
		if err != nil {
			ab.close()
		}
	}()
	log := slog.New(slog.DiscardHandler)
	progress := func(format string, a ...any) {
		if !f.asJSON {
			fmt.Fprintf(e.stderr, format+"\n", a...)
		}
	}

	// Seed straight into the stores, before any service caches anything.
	ids := identity.New(b.Identity, identity.Options{})
	t0 := time.Now()
	accts, err := benchAPICustomers(ctx, b, ids, f.customers)
	if err != nil {
		return nil, fmt.Errorf("bench api: seed customers: %w", err)
	}
	ab.seedCustomers = time.Since(t0)
	progress("seeded %d customers with funded accounts in %s", f.customers, ab.seedCustomers.Round(time.Millisecond))
	t0 = time.Now()
	if ab.oldest, err = benchAPIHistory(ctx, b, accts[0], f.transactions); err != nil {
		return nil, fmt.Errorf("bench api: seed transactions: %w", err)
	}
	ab.seedTransactions = time.Since(t0)
	progress("booked %d transactions on one account in %s", f.transactions, ab.seedTransactions.Round(time.Millisecond))
	// After a bulk load, as an operator would before serving (autovacuum
	// and the kernel get there too, later, in the middle of the load):
	// statistics, hint bits and a checkpoint (Settle), then sync(2) so the
	// page cache the load dirtied is on disk before the clock starts.
	// Without this a flush of hundreds of megabytes lands in a scenario,
	// and every commit waits behind it for 50-100 ms.
	t0 = time.Now()
	if err := b.Settle(ctx); err != nil {
		return nil, fmt.Errorf("bench api: %w", err)
	}
	syscall.Sync()
	progress("settled (vacuum, checkpoint, sync) in %s", time.Since(t0).Round(time.Millisecond))

	// The bank as serve builds it.
	led := ledger.New(b.Ledger, b.LedgerOptions())
	closers = append(closers, led.Close)
	_, akey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	alog := audit.New(b.Audit, audit.Options{Key: akey, Logger: log, Linger: app.AuditLinger}) // as serve's
	closers = append(closers, alog.Close)
	cons, bind := app.PartnerConsent(b, alog, log)
	ins := insights.New(b.Insights, insights.Options{})
	events := insights.NewRecorder(ins, &insights.StoreSegments{Customers: b.Identity, Accounts: b.Ledger}, insights.RecorderOptions{Logger: log})
	closers = append(closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		events.Close(ctx)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ab.issuer = "http://" + ln.Addr().String()
	reg := prometheus.NewRegistry()
	// The per-customer budget (default 300/min) is lifted: the scenarios
	// send hundreds of calls a second for one customer, and the benchmark
	// measures serving, not refusing. The limiter's bookkeeping still runs
	// on every call.
	as, api, err := app.PartnerAPI(ctx, app.PartnerAPIDeps{Backend: b, Consent: cons, Ledger: led, Identity: ids, Audit: alog, Log: log, Reg: reg,
		Issuer: ab.issuer, Options: dataapi.Options{CustomerRate: 100_000_000}}, bind)
	if err != nil {
		ln.Close()
		return nil, err
	}
	runCtx, stop := context.WithCancel(context.Background())
	go api.Run(runCtx)
	closers = append(closers, stop)
	srv := &http.Server{Handler: ab.served.wrap(app.NewServer(app.ServerDeps{Log: log, Reg: reg, Backend: b, Ledger: led, Identity: ids, Audit: alog, Consent: cons,
		OAuth: as, API: api, Insights: ins, Events: events})), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	closers = append(closers, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})

	// One partner with the largest budget registration allows (1,000,000
	// calls a minute, 16,666/s): far above the load, so nothing is refused.
	ab.partner, err = dataapitest.Register(ctx, cons, ab.issuer, benchAPIPartner, 1_000_000, time.Now)
	if err != nil {
		return nil, fmt.Errorf("bench api: register partner: %w", err)
	}
	ab.partner.HTTP = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConns: 2048, MaxIdleConnsPerHost: 2048, IdleConnTimeout: time.Minute}}
	t0 = time.Now()
	if err := ab.link(ctx, as.Decide, accts, f.linked); err != nil {
		return nil, fmt.Errorf("bench api: link customers: %w", err)
	}
	progress("linked %d customers (PAR, consent, token) in %s", f.linked+1, time.Since(t0).Round(time.Millisecond))
	return ab, nil
}

// benchAPICustomers imports n customers in chunks (one password hash for
// all) with one checking account each, in bulk, funded from a settlement
// account through Store.Apply. It returns the accounts in customer order.
func benchAPICustomers(ctx context.Context, b *app.Backend, ids *identity.Service, n int) ([]ledger.Account, error) {
	bulk, ok := b.Ledger.(demo.BulkLedger)
	if !ok {
		return nil, errors.New("the ledger store cannot insert accounts in bulk")
	}
	opened := time.Now().UTC().AddDate(-2, 0, 0).Truncate(24 * time.Hour)
	settle, err := b.Ledger.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "settlement", Currency: "USD", Number: "BENCH-SETTLEMENT",
		Routing: "021000089", Unbounded: true, OpenedAt: opened})
	if err != nil {
		return nil, err
	}
	hash, err := identity.HashPassword("bench customer password")
	if err != nil {
		return nil, err
	}
	const chunk = 2000
	out := make([]ledger.Account, 0, n)
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		cs := make([]identity.Customer, 0, hi-lo)
		for i := lo; i < hi; i++ {
			cs = append(cs, identity.Customer{Name: fmt.Sprintf("Bench Customer %d", i), Email: fmt.Sprintf("c%d@bench.example", i),
				BirthYear: 1950 + i%50, Since: opened})
		}
		cs, err := ids.ImportCustomers(ctx, cs, hash)
		if err != nil {
			return nil, err
		}
		as := make([]ledger.Account, len(cs))
		for i, cu := range cs {
			as[i] = ledger.Account{Customer: cu.ID, Kind: ledger.Checking, Name: "Everyday Checking", Currency: "USD", Status: ledger.Open,
				Number: ledger.AccountNumber(fmt.Sprintf("B%011d", lo+i)), Routing: "021000089", OpenedAt: opened}
		}
		if as, err = bulk.CreateAccounts(ctx, as); err != nil {
			return nil, err
		}
		ops := make([]ledger.Op, len(as))
		for i, a := range as {
			req := ledger.Move("bench-fund", fmt.Sprintf("fund-%d", lo+i), settle.ID, a.ID, ledger.Amount(100_00+(lo+i)%500_000), "USD", "Opening deposit")
			req.At = opened
			ops[i] = ledger.Op{Kind: ledger.OpCreate, Request: req, Hash: req.Hash()}
		}
		if err := applyAll(ctx, b.Ledger, ops); err != nil {
			return nil, err
		}
		out = append(out, as...)
	}
	return out, nil
}

// benchAPIHistory books n transactions on acct, evenly over the last 300
// days (inside the consents' 365-day look-back), alternating deposits and
// smaller card payments, in batches of 5,000 straight to the store as the
// demo seed does. It returns the time of the first.
func benchAPIHistory(ctx context.Context, b *app.Backend, acct ledger.Account, n int) (time.Time, error) {
	now := time.Now().UTC()
	first := now.AddDate(0, 0, -300)
	step := now.Sub(first) / time.Duration(n+1)
	shop, err := b.Ledger.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "card settlement", Currency: "USD", Number: "BENCH-CARDS",
		Routing: "021000089", Unbounded: true, OpenedAt: first.AddDate(0, -1, 0)})
	if err != nil {
		return time.Time{}, err
	}
	const batch = 5000
	ops := make([]ledger.Op, 0, batch)
	for i := range n {
		var req ledger.Request
		if i%2 == 0 {
			req = ledger.Move("bench-history", fmt.Sprintf("h%d", i), shop.ID, acct.ID, ledger.Amount(1000+i%90_000), "USD", "Deposit")
		} else {
			req = ledger.Move("bench-history", fmt.Sprintf("h%d", i), acct.ID, shop.ID, ledger.Amount(100+i%900), "USD", "Card payment")
			req.Category = "groceries"
		}
		req.At = first.Add(time.Duration(i+1) * step)
		ops = append(ops, ledger.Op{Kind: ledger.OpCreate, Request: req, Hash: req.Hash()})
		if len(ops) == batch {
			if err := applyAll(ctx, b.Ledger, ops); err != nil {
				return time.Time{}, err
			}
			ops = ops[:0]
		}
	}
	return first, applyAll(ctx, b.Ledger, ops)
}

// applyAll writes ops in one Store.Apply and fails on any refusal.
func applyAll(ctx context.Context, st ledger.Store, ops []ledger.Op) error {
	if len(ops) == 0 {
		return nil
	}
	res, err := st.Apply(ctx, ops, time.Now().UTC())
	if err != nil {
		return err
	}
	for i, r := range res {
		if r.Err != nil {
			return fmt.Errorf("transfer %s: %w", ops[i].Request.Key, r.Err)
		}
	}
	return nil
}

// link gives the partner a consent from the first n customers (BALANCES
// on their checking account) and from the one with the long history
// (TRANSACTIONS), each through the authorization server over HTTP, and
// takes the partner's ids of the accounts from the token responses.
func (ab *apiBench) link(ctx context.Context, decide func(context.Context, consent.Decision) (string, error), accts []ledger.Account, n int) error {
	one := func(a ledger.Account, clusters ...consent.Cluster) (apiTarget, error) {
		// The token response names the account by the API's accountId.
		tok, _, ids, err := ab.partner.LinkAccounts(ctx, decide, a.Customer, []ledger.AccountID{a.ID}, clusters)
		if err != nil {
			return apiTarget{}, err
		}
		if len(ids) != 1 {
			return apiTarget{}, fmt.Errorf("the token names %d accounts, want 1", len(ids))
		}
		return apiTarget{token: tok, account: ids[0]}, nil
	}
	var err error
	if ab.heavy, err = one(accts[0], consent.AccountBasic, consent.Transactions); err != nil {
		return err
	}
	ab.targets = make([]apiTarget, n)
	var wg sync.WaitGroup
	errc := make(chan error, n)
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				t, err := one(accts[i], consent.AccountBasic, consent.Balances)
				if err != nil {
					errc <- err
					continue
				}
				ab.targets[i] = t
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errc)
	return <-errc
}

func trim(b []byte) []byte {
	if len(b) > 300 {
		return b[:300]
	}
	return b
}

// maxSigned bounds a run whose proofs are signed ahead: its last proof is
// sent that long (plus the signing) after it was made, within the server's
// 60-second window.
const maxSigned = 45 * time.Second

// apiCall is one call of a scenario, its proof signed ahead.
type apiCall struct {
	token, path, proof string
}

// balances reads one linked customer's balances, chosen at random.
func (ab *apiBench) balances(r *mrand.Rand) (apiTarget, string) {
	t := ab.targets[r.IntN(len(ab.targets))]
	return t, dataapi.Prefix + "/accounts/" + t.account + "/balances"
}

// firstPage reads the newest 100 transactions of the long account.
func (ab *apiBench) firstPage(*mrand.Rand) (apiTarget, string) {
	return ab.heavy, dataapi.Prefix + "/accounts/" + ab.heavy.account + "/transactions?limit=100"
}

// deepPage reads the 100 transactions before a random moment of the
// account's history: a keyset seek anywhere in the million, which costs
// what the first page costs if the index does its work.
func (ab *apiBench) deepPage(r *mrand.Rand) (apiTarget, string) {
	span := time.Since(ab.oldest)
	end := ab.oldest.Add(time.Duration(r.Int64N(int64(span)))).UTC().Truncate(time.Second)
	q := url.Values{"limit": {"100"}, "endTime": {end.Format(time.RFC3339)}}
	return ab.heavy, dataapi.Prefix + "/accounts/" + ab.heavy.account + "/transactions?" + q.Encode()
}

// prepare picks n calls with next and signs their DPoP proofs, before the
// clock starts: the partner's signing is the load generator's work, not
// the server's, and on a shared machine it would otherwise compete with
// the server for the same cores. Every proof is still unique (its own jti)
// and fresh when sent (iat within the server's 60-second window: a run
// lasts at most maxSigned), and the server checks each in full.
func (ab *apiBench) prepare(n int, next func(*mrand.Rand) (apiTarget, string)) ([]apiCall, error) {
	r := mrand.New(mrand.NewPCG(mrand.Uint64(), mrand.Uint64()))
	calls := make([]apiCall, n)
	for i := range calls {
		t, path := next(r)
		proof, err := ab.partner.Proof(http.MethodGet, ab.partner.HTU(path), t.token)
		if err != nil {
			return nil, err
		}
		calls[i] = apiCall{token: t.token, path: path, proof: proof}
	}
	return calls, nil
}

// openLoop makes calls, started at rate calls per second, each on its own
// goroutine, whatever the server's pace (at most 4,096 in flight; past that
// the schedule waits, and the waiting is in the latency, measured from when
// each call was due). It reports completed successful calls per second
// and their latency percentiles.
func openLoop(ctx context.Context, rate int, calls []apiCall, do func(context.Context, apiCall) error) apiScenario {
	interval := time.Second / time.Duration(rate)
	n := len(calls)
	var (
		mu    sync.Mutex
		lat   = make([]time.Duration, 0, n)
		fails atomic.Int64
		first error
	)
	sem := make(chan struct{}, 4096)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < n && ctx.Err() == nil; i++ {
		due := start.Add(time.Duration(i) * interval)
		if w := time.Until(due); w > 0 {
			time.Sleep(w)
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := do(ctx, calls[i])
			took := time.Since(due)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fails.Add(1)
				if first == nil {
					first = err
				}
				return
			}
			lat = append(lat, took)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	s := apiScenario{Target: rate, Errors: int(fails.Load()), firstErr: first, Seconds: elapsed.Seconds()}
	if first != nil {
		s.FirstError = first.Error()
	}
	if len(lat) == 0 {
		return s
	}
	slices.Sort(lat)
	s.Calls = len(lat)
	s.RPS = float64(len(lat)) / elapsed.Seconds()
	s.P50, s.P99, s.P999 = ms(quantile(lat, 1, 2)), ms(quantile(lat, 99, 100)), ms(quantile(lat, 999, 1000))
	return s
}
