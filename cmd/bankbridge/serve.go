package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

func init() {
	commands["serve"] = command{"run the bank: web app, console, APIs (the default)", serveCmd}
}

func serveCmd(ctx context.Context, e env, args []string) error {
	var c app.Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	c.ServerFlags(fs, e.getenv)
	if err := app.Parse(fs, args, &c); err != nil {
		return err
	}
	log := c.Logger(e.stderr)
	log.Info("starting", "config", c)

	b, err := app.OpenBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.Close()
	b.TuneProcs(e.getenv)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	lopts := b.LedgerOptions()
	// Each committed batch wakes the alerts worker, which is built later.
	var wakeAlerts atomic.Pointer[func()]
	metrics := app.NewLedgerMetrics(reg)
	lopts.OnBatch = func(n int, took time.Duration, err error) {
		metrics.Observe(n, took, err)
		if w := wakeAlerts.Load(); w != nil && err == nil {
			(*w)()
		}
	}
	led := ledger.New(b.Ledger, lopts)
	defer led.Close()
	ids := identity.New(b.Identity, identity.Options{})
	ins := insights.New(b.Insights, insights.Options{})
	events := insights.NewRecorder(ins, &insights.StoreSegments{Customers: b.Identity, Accounts: b.Ledger}, insights.RecorderOptions{Logger: log})
	defer func() { // also when serve fails on its way up; a no-op after the shutdown's Close
		cctx, cancel := context.WithTimeout(context.Background(), c.Shutdown)
		defer cancel()
		events.Close(cctx)
	}()
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bankbridge_insights_events_dropped",
		Help: "Engagement events dropped (buffer full, invalid, after close)."}, func() float64 { return float64(events.Stats().Dropped) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bankbridge_insights_events_written",
		Help: "Engagement events folded into the rollups since start."}, func() float64 { return float64(events.Stats().Written) }))
	// A batch the database refused after the recorder's retries (PostgreSQL
	// restarting) is lost too: logged ("insights: batch lost") and counted.
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bankbridge_insights_events_failed",
		Help: "Engagement events lost because their batch could not be written after retries."}, func() float64 { return float64(events.Stats().Failed) }))

	// The fleet's keys are in the database, sealed under a key-encryption
	// key that is not, so whoever can rewrite the database cannot re-sign
	// the log; a KEK that does not open them stops the start here.
	ring, err := openKeyring(ctx, &c, b, log, "")
	if err != nil {
		return err
	}
	aopts, memDone, err := signerOptions(ctx, &c, b, ring)
	if err != nil {
		return err
	}
	defer memDone() // after the log closed: deferred first, run last
	aopts.Logger, aopts.Lease = log, b.Lease
	alog := audit.New(b.Audit, aopts)
	defer alog.Close()             // after the HTTP server stopped: drains, then seals once more
	msgHook := &consent.LateHook{} // the messenger hub is built after consent, as the data API is
	cons, bindAPI := app.PartnerConsent(b, alog, log, msgHook)
	// Every background worker runs in this group. Deferred after the log,
	// the ledger and the database, it stops (cancels and waits for them)
	// before those close, also when serve fails on its way up.
	work := newWorkers(ctx, log)
	defer work.stop()
	work.Go("session purge", func(ctx context.Context) error {
		singleton(ctx, b.Lease, log, purgeLease, func(ctx context.Context) { purgeSessions(ctx, ids, log) })
		return nil
	})

	if c.Demo {
		if err := seedDemo(ctx, e.stdout, c.DemoSize, b, ids, ins); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	defer ln.Close() // when serve fails on its way up; Shutdown closed it otherwise
	base := c.PublicURL
	if base == "" {
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		base = fmt.Sprintf("%s://localhost:%d", scheme, ln.Addr().(*net.TCPAddr).Port)
	}
	base = strings.TrimSuffix(base, "/")
	// Payments over the rails; the ACH worker runs on one instance at a
	// time (its lease), every two seconds. Built before the partner API,
	// which pays through it; their status changes reach the API's partners
	// once it is built (before any request or worker runs).
	// Set once each is built; read by whatever changes a payment first
	// (the chat inbox worker may, before the alerts exist).
	var toPartners, toAlerts atomic.Pointer[func(context.Context, rails.Payment)]
	rl, err := app.RailsWiring(app.RailsDeps{Config: &c, Backend: b, Ledger: led, Base: base, Log: log, Reg: reg,
		OnChange: []func(rails.Payment){func(p rails.Payment) {
			for _, f := range []*atomic.Pointer[func(context.Context, rails.Payment)]{&toPartners, &toAlerts} {
				if h := f.Load(); h != nil {
					(*h)(context.WithoutCancel(ctx), p)
				}
			}
		}}})
	if err != nil {
		return err
	}
	as, api, err := app.PartnerAPI(ctx, app.PartnerAPIDeps{Backend: b, Consent: cons, Ledger: led, Identity: ids, Audit: alog, Keys: oauthKeys{ring},
		Log: log, Reg: reg, Issuer: base, Events: events, Rails: rl.Service}, bindAPI)
	if err != nil {
		return err
	}
	rc := api.RailChanged
	toPartners.Store(&rc)
	work.Go("consent sweep", func(ctx context.Context) error {
		singleton(ctx, b.Lease, log, sweepLease, func(ctx context.Context) { sweepConsents(ctx, cons, log) })
		return nil
	})
	work.Go("notifications", func(ctx context.Context) error { api.Run(ctx); return nil })
	answers := &alertAnswers{store: b.Messenger}
	mkeys, err := messengerKeys(ctx, ring)
	if err != nil {
		return err
	}
	mounts, hub, err := app.MessengerWiring(ctx, app.MessengerDeps{Base: base, Keys: mkeys, Getenv: e.getenv, Backend: b,
		Ledger: led, Consent: cons, Audit: alog, Hook: msgHook, Answer: answers.Answer, Fraud: answers, Rails: rl.Service, Log: log, Fleet: c.Fleet() && !c.EmbeddedSim})
	if err != nil {
		return err
	}
	if hub != nil {
		// The chat inbox: webhooks are answered once stored; this worker
		// answers them, in order per conversation, sharing the work with
		// the fleet's other instances.
		work.Go("chat inbox", hub.RunInbox)
		hub.SetEngagement(app.ChatEngagement(events))
	}
	if err := chatPlatforms(ctx, work, &c, app.ChatDeps{Config: c.Platforms, Base: base, Backend: b, Consent: cons, Hub: hub, Log: log,
		Fleet: c.Fleet() && !c.EmbeddedSim}, mkeys, mounts); err != nil {
		return err
	}
	al, wake, err := startAlerts(ctx, work, &c, alertsDeps{store: b.Alerts, ledger: b.Ledger, messenger: b.Messenger, answers: answers,
		bankName: "bankbridge", log: log, hub: hub, options: alertOptions(&c, events), events: events, reg: reg}, b)
	if err != nil {
		return err
	}
	wakeAlerts.Store(&wake)
	if al != nil {
		ra := app.RailAlerts(al, b.Messenger, log)
		toAlerts.Store(&ra)
	}

	if mounts == nil {
		mounts = map[string]http.Handler{}
	}
	for p, h := range rl.Mounts {
		mounts[p] = h
	}
	work.Go("rails", func(ctx context.Context) error {
		singleton(ctx, b.Lease, log, app.RailsLease, func(ctx context.Context) { rl.Run(ctx, 2*time.Second) })
		return nil
	})

	// Mirror mode: the core's statements are imported from its inbox
	// folder by one instance at a time (docs/rails.md "Mirror mode").
	if c.Mode == "mirror" {
		in := &app.MirrorInbox{Dir: c.CoreInboxDir(), Log: log, Rejected: rl.Service.RejectedByCore, Accounts: app.AccountOpener(b, c.RailsRouting),
			Mirror: rails.NewMirror(b.Mirror, b.Ledger, rails.MirrorOptions{AccountByNumber: b.Rails.AccountByNumber, Booked: rl.Service.SettleFromCore})}
		if err := os.MkdirAll(in.Dir, 0o750); err != nil {
			return err
		}
		if err := os.MkdirAll(c.CoreOutboxDir(), 0o750); err != nil {
			return err
		}
		log.Info("mirror mode: payments to other banks leave to the core as pain.001", "outbox", c.CoreOutboxDir())
		log.Info("mirror mode: importing the core's camt.053 statements", "inbox", in.Dir)
		work.Go("mirror", func(ctx context.Context) error {
			singleton(ctx, b.Lease, log, app.MirrorLease, func(ctx context.Context) { in.Run(ctx, 5*time.Second) })
			return nil
		})
	}
	// Scheduled and recurring payments: the worker runs on one instance at
	// a time, every 30 seconds (a payment is due from 06:00 on its date in
	// the bank's --time-zone).
	sch := app.ScheduledWiring(b, led, rl.Service, al, log, c.Location())
	work.Go("scheduled", func(ctx context.Context) error {
		singleton(ctx, b.Lease, log, app.ScheduledLease, func(ctx context.Context) { sch.Run(ctx, 30*time.Second) })
		return nil
	})

	var draining atomic.Bool
	handler := app.NewServer(app.ServerDeps{Rails: rl.Service, Scheduled: sch, Draining: &draining, Log: log, Reg: reg, Backend: b, Ledger: led, Identity: ids, Audit: alog, Consent: cons, OAuth: as, API: api, Alerts: al, Mounts: mounts, Inbox: hub, Insights: ins, Events: events, Secure: c.TLSCert != "",
		Mail: resetMailer(&c), PublicURL: c.PublicURL, Location: c.Location()})
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() {
		if c.TLSCert != "" {
			errc <- srv.ServeTLS(ln, c.TLSCert, c.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	fmt.Fprintf(e.stdout, "bankbridge is running (%s).\n  Customer app:  %s/\n  Bank console:  %s/console/\n  Partner API:   %s/docs/api\n  Health:        %s/healthz   Metrics: %s/metrics\n",
		b, base, base, base, base, base)
	if _, ok := mounts["/sim/"]; ok {
		fmt.Fprintf(e.stdout, "  Messenger demo (local platform emulator): %s/sim/\n", base)
	}
	if _, ok := mounts["/sim/telegram/"]; ok {
		fmt.Fprintf(e.stdout, "  Telegram demo (local Bot API emulator):   %s/sim/telegram/chat/<name>\n", base)
	}
	if _, ok := mounts["/sim/whatsapp/"]; ok {
		fmt.Fprintf(e.stdout, "  WhatsApp demo (local Cloud API emulator):  %s/sim/whatsapp/chat/<name>\n", base)
	}
	if rl.Sim != nil {
		fmt.Fprintf(e.stdout, "  ACH operator (local rail emulator): %s/railsim/\n", base)
	}
	fmt.Fprintf(e.stdout, "  listening on %s\n", ln.Addr())
	if c.Demo {
		fmt.Fprintf(e.stdout, "Demo logins:\n  customer  %s / %s\n  staff     %s / %s (also agent@, compliance@, analyst@ bankbridge.example)\n",
			demo.CustomerEmail, demo.CustomerPassword, demo.AdminEmail, demo.StaffPassword)
	}

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// A rolling restart loses no request: /readyz fails first, the load
	// balancer stops sending, requests already routed here are still
	// served through the drain; only then does the listener close.
	draining.Store(true)
	log.Info("draining: /readyz answers 503", "drain", c.Drain)
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-time.After(c.Drain):
	}
	log.Info("shutting down", "grace", c.Shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), c.Shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	// No request is in flight now; then the workers, which also record
	// engagement events, before the recorder flushes.
	work.stop()
	if err := events.Close(sctx); err != nil {
		log.Warn("insights: events not flushed", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// purgeSessions deletes expired sessions every ten minutes until ctx ends.
func purgeSessions(ctx context.Context, ids *identity.Service, log *slog.Logger) {
	every(ctx, 10*time.Minute, func() {
		if n, err := ids.PurgeSessions(ctx); err != nil {
			log.Warn("purge sessions", "err", err)
		} else if n > 0 {
			log.Debug("purged expired sessions", "count", n)
		}
	})
}

// sweepConsents marks consents past their end date as expired every minute.
// Expiry does not wait for it: every use compares the end date with the
// clock; the sweep makes the status and the audit record follow.
func sweepConsents(ctx context.Context, cons *consent.Service, log *slog.Logger) {
	every(ctx, time.Minute, func() {
		if _, err := cons.Sweep(ctx); err != nil {
			log.Warn("sweep consents", "err", err)
		}
	})
}

// every runs fn each period until ctx ends.
func every(ctx context.Context, period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
