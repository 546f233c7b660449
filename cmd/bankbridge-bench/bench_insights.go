package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// benchInsights loads N engagement events (the demo's generator, bulk
// batches through the same incremental fold the Recorder uses) into a fresh
// database per engine, then times every dashboard query several times and
// prints medians and p99 (with few runs, p99 is the slowest run).
func benchInsights(ctx context.Context, e env, args []string) error {
	var c app.Config
	fs := flag.NewFlagSet("bench insights", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	events := fs.Int("events", 10_000_000, "engagement events to load")
	days := fs.Int("days", 180, "days of engagement")
	runs := fs.Int("runs", 15, "timed runs of each query")
	batch := fs.Int("batch", 50_000, "events per ingest batch")
	engines := fs.String("engines", "", "comma-separated engines to run: sqlite, postgres (default: the one --database selects)")
	asJSON := fs.Bool("json", false, "print one JSON object per query (and one for the load)")
	if err := app.Parse(fs, args, &c); err != nil {
		return err
	}
	if *events < 1000 || *runs < 1 || *days < 7 || *batch < 1 {
		return app.UsageError("--events at least 1000, --runs at least 1, --days at least 7, --batch at least 1")
	}
	list := []string{c.Engine()}
	if *engines != "" {
		list = strings.Split(*engines, ",")
	}
	for _, eng := range list {
		cc := c
		switch eng {
		case "sqlite":
			cc.Database = ""
		case "postgres":
			if cc.Database == "" {
				cc.Database = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
			}
		default:
			return app.UsageError(fmt.Sprintf("unknown engine %q: sqlite or postgres", eng))
		}
		if err := benchInsightsOn(ctx, e, &cc, eng, *events, *days, *runs, *batch, *asJSON); err != nil {
			return fmt.Errorf("bench insights on %s: %w", eng, err)
		}
	}
	return nil
}

type benchQuery struct {
	Engine  string  `json:"engine"`
	Query   string  `json:"query"`
	Filter  string  `json:"filter"`
	Events  int64   `json:"events"`
	Runs    int     `json:"runs"`
	Median  float64 `json:"median_ms"`
	P99     float64 `json:"p99_ms"`
	Max     float64 `json:"max_ms"`
	Under   bool    `json:"under_500ms"`
	LoadSec float64 `json:"load_s,omitempty"`
}

// countingIngester counts the events it passes on.
type countingIngester struct {
	next insights.Ingester
	n    atomic.Int64
}

func (c *countingIngester) Ingest(ctx context.Context, evs []insights.Event) error {
	if err := c.next.Ingest(ctx, evs); err != nil {
		return err
	}
	c.n.Add(int64(len(evs)))
	return nil
}

// countOnly counts without writing: it sizes the customer base.
type countOnly struct{ n int64 }

func (c *countOnly) Ingest(_ context.Context, evs []insights.Event) error {
	c.n += int64(len(evs))
	return nil
}

func benchInsightsOn(ctx context.Context, e env, c *app.Config, eng string, events, days, runs, batch int, asJSON bool) error {
	cleanup, err := benchDatabase(ctx, c)
	if err != nil {
		return err
	}
	defer cleanup()
	var st insights.Store
	if eng == "sqlite" {
		db, err := sqlite.Open(ctx, filepath.Join(c.Data, "insights.db"))
		if err != nil {
			return err
		}
		defer db.Close()
		st = db.Insights()
	} else {
		db, err := postgres.Open(ctx, c.Database)
		if err != nil {
			return err
		}
		defer db.Close()
		st = db.Insights()
	}
	now := time.Now().UTC().Truncate(24 * time.Hour)
	o := demo.EngagementOptions{Days: days, Seed: 42, Now: now, Batch: batch}
	// Size the customer base: the generator's events per customer, from a
	// sample, scaled to the events asked for.
	sample := benchCustomers(2000)
	var probe countOnly
	if err := demo.SeedEngagement(ctx, &probe, sample, o); err != nil {
		return err
	}
	n := max(100, int(float64(events)*2000/float64(probe.n)))
	svc := insights.New(st, insights.Options{Now: func() time.Time { return now }})
	ing := &countingIngester{next: svc}
	t0 := time.Now()
	last := time.Now()
	o.Progress = func(done, total int) {
		if !asJSON && time.Since(last) > 10*time.Second {
			last = time.Now()
			fmt.Fprintf(e.stderr, "bench insights: %s: day %d/%d, %d events, %s\n", eng, done, total, ing.n.Load(), time.Since(t0).Round(time.Second))
		}
	}
	if err := demo.SeedEngagement(ctx, ing, benchCustomers(n), o); err != nil {
		return err
	}
	load := time.Since(t0)
	total := ing.n.Load()
	if asJSON {
		json.NewEncoder(e.stdout).Encode(map[string]any{"engine": eng, "load": true, "events": total, "customers": n,
			"load_s": load.Seconds(), "events_per_s": float64(total) / load.Seconds()})
	} else {
		fmt.Fprintf(e.stdout, "engine=%s events=%d customers=%d days=%d load=%s (%.0f events/s)\n",
			eng, total, n, days, load.Round(time.Millisecond), float64(total)/load.Seconds())
	}

	end := insights.DayOf(now) - 1
	filters := []struct {
		name string
		f    insights.Filter
	}{
		{"90 days, everyone", insights.Filter{End: end, Days: 90}},
		{"180 days, 55-64 with savings", insights.Filter{End: end, Days: 180, Band: mustBand("55-64"), Product: insights.Savings}},
		{"30 days, messenger", insights.Filter{End: end, Days: 30, Channel: insights.Messenger}},
	}
	queries := []struct {
		name string
		run  func(context.Context, insights.Filter) error
	}{
		{"trends", func(ctx context.Context, f insights.Filter) error { _, err := svc.Trends(ctx, f); return err }},
		{"reach", func(ctx context.Context, f insights.Filter) error { _, err := svc.Reach(ctx, f); return err }},
		{"overlap", func(ctx context.Context, f insights.Filter) error { _, err := svc.Overlap(ctx, f); return err }},
		{"cohorts", func(ctx context.Context, f insights.Filter) error { _, err := svc.Cohorts(ctx, f); return err }},
		{"intents", func(ctx context.Context, f insights.Filter) error { _, err := svc.Intents(ctx, f); return err }},
		{"payments", func(ctx context.Context, f insights.Filter) error { _, err := svc.Payments(ctx, f); return err }},
		{"alerts", func(ctx context.Context, f insights.Filter) error { _, err := svc.Alerts(ctx, f); return err }},
		{"dashboard (all of them)", func(ctx context.Context, f insights.Filter) error { _, err := svc.Dashboard(ctx, f); return err }},
	}
	if !asJSON {
		fmt.Fprintf(e.stdout, "%-24s %-30s %10s %10s %10s\n", "query", "filter", "median_ms", "p99_ms", "max_ms")
	}
	slow := 0
	for _, fl := range filters {
		for _, q := range queries {
			if err := q.run(ctx, fl.f); err != nil { // warm-up: caches, plans
				return fmt.Errorf("%s: %w", q.name, err)
			}
			lat := make([]time.Duration, 0, runs)
			for range runs {
				t := time.Now()
				if err := q.run(ctx, fl.f); err != nil {
					return fmt.Errorf("%s: %w", q.name, err)
				}
				lat = append(lat, time.Since(t))
			}
			slices.Sort(lat)
			r := benchQuery{Engine: eng, Query: q.name, Filter: fl.name, Events: total, Runs: runs,
				Median: ms(quantile(lat, 1, 2)), P99: ms(quantile(lat, 99, 100)), Max: ms(quantile(lat, 1, 1))}
			r.Under = r.P99 < 500
			if !r.Under && !strings.HasPrefix(q.name, "dashboard") {
				slow++
			}
			if asJSON {
				json.NewEncoder(e.stdout).Encode(r)
			} else {
				fmt.Fprintf(e.stdout, "%-24s %-30s %10.1f %10.1f %10.1f\n", q.name, fl.name, r.Median, r.P99, r.Max)
			}
		}
	}
	if slow > 0 {
		return fmt.Errorf("%d dashboard queries took 500 ms or more at p99", slow)
	}
	return nil
}

func mustBand(s string) insights.Band {
	b, err := insights.ParseBand(s)
	if err != nil {
		panic(err)
	}
	return b
}

// benchCustomers makes n customers with the demo bank's age mix (a third
// aged 55 and over) and product holdings.
func benchCustomers(n int) []demo.EngagementCustomer {
	r := rand.New(rand.NewPCG(42, 1))
	year := time.Now().Year()
	out := make([]demo.EngagementCustomer, n)
	for i := range out {
		age := 18 + r.IntN(50)
		if r.Float64() < 0.35 {
			age = 55 + r.IntN(25)
		}
		p := insights.Products(insights.Checking)
		if r.Float64() < 0.55 {
			p |= insights.Products(insights.Savings)
		}
		if r.Float64() < 0.45 {
			p |= insights.Products(insights.CreditCard)
		}
		out[i] = demo.EngagementCustomer{ID: bankbridge.CustomerID(i + 1), BirthYear: year - age, Products: p}
	}
	return out
}
