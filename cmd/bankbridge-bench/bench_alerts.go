package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// benchChannel is the fake platform of `bench alerts`: it notes when each
// delivery id first arrived and counts repeats.
type benchChannel struct {
	mu      sync.Mutex
	at      map[string]time.Time
	repeats int
}

func (c *benchChannel) Deliver(_ context.Context, _ bankbridge.CustomerID, m alerts.Message) error {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.at[m.ID]; ok {
		c.repeats++
		return nil
	}
	c.at[m.ID] = now
	return nil
}

func (c *benchChannel) count() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.at) }

type benchAllLinked struct{}

func (benchAllLinked) Links(context.Context, bankbridge.CustomerID) ([]alerts.Link, error) {
	return []alerts.Link{{Channel: "bench"}}, nil
}

type alertsBenchResult struct {
	Engine     string  `json:"engine"`
	Rate       int     `json:"target_per_min"`
	Posted     int     `json:"posted"`
	Delivered  int     `json:"delivered"`
	Lost       int     `json:"lost"`
	Repeats    int     `json:"repeats"`
	PerMinute  float64 `json:"delivered_per_min"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
	DurationS  float64 `json:"duration_s"`
	DrainAfter float64 `json:"drain_ms"`
}

// benchAlerts posts deposits at a steady rate while the alert worker runs
// in-process, and measures posting -> delivered at a fake channel: the time
// from calling ledger.Transfer to the channel receiving the alert.
func benchAlerts(ctx context.Context, e env, args []string) error {
	var c app.Config
	fs := flag.NewFlagSet("bench alerts", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	rate := fs.Int("rate", 10000, "deposits (each one alert) per minute")
	duration := fs.Duration("duration", 20*time.Second, "how long to post")
	customers := fs.Int("customers", 200, "customers the deposits go to")
	asJSON := fs.Bool("json", false, "print one JSON object")
	events := fs.String("events", "", "nats://host:4222: alerts through NATS JetStream, as with serve --events (default: in process)")
	instances := fs.Int("instances", 1, "with --events: relays, consumers and dispatchers of that many instances")
	if err := app.Parse(fs, args, &c); err != nil {
		return err
	}
	if *rate < 1 || *duration <= 0 || *customers < 1 || *instances < 1 {
		return app.UsageError("usage: bankbridge-bench alerts [--rate N/min] [--duration D] [--customers N] [--database URL] [--events nats://... [--instances N]] [--json]")
	}
	cleanup, err := benchDatabase(ctx, &c)
	if err != nil {
		return err
	}
	defer cleanup()
	var (
		lst    ledger.Store
		ast    alerts.Store
		engine = "sqlite"
		opts   = ledger.Options{Batchers: 1, MaxBatch: 4096}
		closer func() error
	)
	if c.Database == "" {
		db, err := sqlite.Open(ctx, c.SQLitePath())
		if err != nil {
			return err
		}
		lst, ast, closer = db.Ledger(), db.Alerts(), db.Close
	} else {
		db, err := postgres.Open(ctx, c.Database)
		if err != nil {
			return err
		}
		lst, ast, closer, engine, opts = db.Ledger(), db.Alerts(), db.Close, "postgres", ledger.Options{Batchers: 2, MaxBatch: 512}
	}
	defer closer()

	ch := &benchChannel{at: map[string]time.Time{}}
	aopts := alerts.Options{Channels: map[string]alerts.Channel{"bench": ch}, Links: benchAllLinked{}, Poll: 20 * time.Millisecond}
	svc := alerts.New(ast, lst, aopts)
	wake := svc.Notify
	if *events != "" {
		var stopNATS func()
		if wake, stopNATS, err = benchAlertsNATS(ctx, *events, *instances, lst, ast, aopts); err != nil {
			return err
		}
		defer stopNATS()
		engine += "+nats"
	}
	opts.OnBatch = func(int, time.Duration, error) { wake() }
	led := ledger.New(lst, opts)
	defer led.Close()

	settle, err := lst.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "Settlement", Currency: "USD", Number: "BENCH-SETTLE", Routing: "021000021", Unbounded: true})
	if err != nil {
		return err
	}
	accts := make([]ledger.Account, *customers)
	for i := range accts {
		if accts[i], err = lst.CreateAccount(ctx, ledger.Account{Customer: bankbridge.CustomerID(i + 1), Kind: ledger.Checking, Name: "Checking",
			Currency: "USD", Number: ledger.AccountNumber(fmt.Sprintf("BENCH-%06d", i)), Routing: "021000021"}); err != nil {
			return err
		}
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if *events == "" {
		wg.Go(func() { svc.Run(wctx, lst) })
	}
	defer func() { stop(); wg.Wait() }()

	// Post at a steady pace, each deposit on its own goroutine so a slow
	// commit does not slow the pace (an open-loop load).
	var mu sync.Mutex
	started := map[ledger.TransferID]time.Time{}
	errs := 0
	every := time.Minute / time.Duration(*rate)
	tick := time.NewTicker(every)
	defer tick.Stop()
	begin := time.Now()
	var posting sync.WaitGroup
	n := 0
	for time.Since(begin) < *duration {
		<-tick.C
		i := n
		n++
		posting.Go(func() {
			t0 := time.Now()
			tr, _, err := led.Transfer(ctx, ledger.Move("bench-alerts", fmt.Sprint(i), settle.ID, accts[i%len(accts)].ID, 100, "USD", "deposit"))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
				return
			}
			started[tr.ID] = t0
		})
	}
	posting.Wait()
	postedFor := time.Since(begin)
	drain := time.Now()
	for ch.count() < len(started) && time.Since(drain) < 30*time.Second {
		time.Sleep(5 * time.Millisecond)
	}
	drained := time.Since(drain)

	// Latency per alert: the channel's arrival minus the transfer's start.
	ch.mu.Lock()
	var lat []float64
	for id, at := range ch.at {
		alertID, _, _ := cutDelivery(id)
		a, err := ast.Alert(ctx, alerts.AlertID(alertID))
		if err != nil {
			ch.mu.Unlock()
			return err
		}
		if t0, ok := started[a.Transfer]; ok {
			lat = append(lat, float64(at.Sub(t0).Microseconds())/1000)
		}
	}
	res := alertsBenchResult{Engine: engine, Rate: *rate, Posted: len(started), Delivered: len(ch.at), Repeats: ch.repeats,
		DurationS: postedFor.Seconds(), DrainAfter: float64(drained.Milliseconds())}
	ch.mu.Unlock()
	res.Lost = res.Posted - res.Delivered
	res.PerMinute = float64(res.Delivered) / (postedFor + drained).Minutes()
	slices.Sort(lat)
	if len(lat) > 0 {
		res.P50, res.P99, res.Max = quantile(lat, 1, 2), quantile(lat, 99, 100), quantile(lat, 1, 1)
	}
	if *asJSON {
		return json.NewEncoder(e.stdout).Encode(res)
	}
	fmt.Fprintf(e.stdout, "engine=%s target=%d/min duration=%.1fs posted=%d errors=%d\ndelivered=%d lost=%d repeats=%d delivered/min=%.0f (drained %dms after the last post)\nposting->delivered p50=%.1fms p99=%.1fms max=%.1fms\n",
		res.Engine, res.Rate, res.DurationS, res.Posted, errs, res.Delivered, res.Lost, res.Repeats, res.PerMinute, int(res.DrainAfter), res.P50, res.P99, res.Max)
	if res.Lost > 0 {
		return fmt.Errorf("bench alerts: %d alerts not delivered", res.Lost)
	}
	return nil
}

// cutDelivery splits a delivery id into its alert id and channel.
func cutDelivery(id string) (string, string, bool) {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == '.' {
			return id[:i], id[i+1:], true
		}
	}
	return id, "", false
}
