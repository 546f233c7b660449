package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/auditapi"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/oauth"
	"github.com/bankbridge/bankbridge/problem"
	"github.com/bankbridge/bankbridge/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func init() {
	commands["serve"] = command{"run the bank: web app, console, APIs (the default)", serveCmd}
}

func serveCmd(ctx context.Context, e env, args []string) error {
	var c Config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.flags(fs, e.getenv)
	c.serverFlags(fs, e.getenv)
	if err := parse(fs, args, &c); err != nil {
		return err
	}
	log := c.logger(e.stderr)
	log.Info("starting", "config", c)

	b, err := openBackend(ctx, &c)
	if err != nil {
		return err
	}
	defer b.close()
	b.tuneProcs(e.getenv)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	lopts := b.ledgerOptions()
	// Each committed batch wakes the alerts worker, which is built later.
	var wakeAlerts atomic.Pointer[func()]
	metrics := newLedgerMetrics(reg)
	lopts.OnBatch = func(n int, took time.Duration, err error) {
		metrics.observe(n, took, err)
		if w := wakeAlerts.Load(); w != nil && err == nil {
			(*w)()
		}
	}
	led := ledger.New(b.ledger, lopts)
	defer led.Close()
	ids := identity.New(b.identity, identity.Options{})
	go singleton(ctx, b.lease, log, purgeLease, func(ctx context.Context) { purgeSessions(ctx, ids, log) })
	ins := insights.New(b.insights, insights.Options{})
	events := insights.NewRecorder(ins, &insights.StoreSegments{Customers: b.identity, Accounts: b.ledger}, insights.RecorderOptions{Logger: log})
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "bankbridge_insights_events_dropped",
		Help: "Engagement events dropped (buffer full, invalid, after close)."}, func() float64 { return float64(events.Stats().Dropped) }))

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
	aopts.Logger, aopts.Lease = log, b.lease
	alog := audit.New(b.audit, aopts)
	defer alog.Close()             // after the HTTP server stopped: drains, then seals once more
	msgHook := &consent.LateHook{} // the messenger hub is built after consent, as the data API is
	cons, bindAPI := partnerConsent(b, alog, log, msgHook)

	if c.Demo {
		if err := seedDemo(ctx, e.stdout, c.DemoSize, b, ids, ins); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	base := c.PublicURL
	if base == "" {
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		base = fmt.Sprintf("%s://localhost:%d", scheme, ln.Addr().(*net.TCPAddr).Port)
	}
	base = strings.TrimSuffix(base, "/")
	as, api, err := partnerAPI(ctx, partnerAPIDeps{backend: b, consent: cons, ledger: led, identity: ids, audit: alog, keys: oauthKeys{ring},
		log: log, reg: reg, issuer: base}, bindAPI)
	if err != nil {
		return err
	}
	go singleton(ctx, b.lease, log, sweepLease, func(ctx context.Context) { sweepConsents(ctx, cons, log) })
	go api.Run(ctx)
	answers := &alertAnswers{}
	mkeys, err := messengerKeys(ctx, ring)
	if err != nil {
		return err
	}
	mounts, hub, err := messengerWiring(ctx, messengerDeps{base: base, keys: mkeys, getenv: e.getenv, backend: b,
		ledger: led, consent: cons, audit: alog, hook: msgHook, answer: answers, log: log})
	if err != nil {
		return err
	}
	al, wake, err := startAlerts(ctx, &c, alertsDeps{store: b.alerts, ledger: b.ledger, messenger: b.messenger, answers: answers,
		bankName: "bankbridge", log: log, hub: hub, options: alertOptions(&c, events), reg: reg}, b)
	if err != nil {
		return err
	}
	wakeAlerts.Store(&wake)

	handler := newServer(serverDeps{log: log, reg: reg, backend: b, ledger: led, identity: ids, audit: alog, consent: cons, oauth: as, api: api, alerts: al, mounts: mounts, inbox: hub, insights: ins, events: events, secure: c.TLSCert != ""})
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
	log.Info("shutting down", "grace", c.Shutdown)
	sctx, cancel := context.WithTimeout(context.Background(), c.Shutdown)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := events.Close(sctx); err != nil {
		log.Warn("insights: events not flushed", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type serverDeps struct {
	log      *slog.Logger
	reg      *prometheus.Registry
	backend  *backend
	ledger   *ledger.Service
	identity *identity.Service
	audit    *audit.Log
	consent  *consent.Service
	oauth    *oauth.Server
	api      *dataapi.Server
	mounts   map[string]http.Handler // the messenger webhook and, in the demo, platformsim
	inbox    *channels.Hub
	alerts   *alerts.Service
	insights *insights.Service
	events   *insights.Recorder
	secure   bool
}

// newServer is the whole HTTP surface: health, metrics, and the web app.
// Every route is listed here, in one place.
func newServer(d serverDeps) http.Handler {
	reg := d.reg
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := newHTTPMetrics(reg)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.backend.ping(ctx); err != nil {
			d.log.Warn("not ready", "err", err)
			problem.Write(w, r, bankbridge.E(bankbridge.Unavailable, "not_ready", "the database is not reachable"))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/oauth/", d.oauth.Handler())
	mux.Handle("/.well-known/", d.oauth.Handler())
	mux.Handle("/audit/v1/", auditapi.New(d.audit, d.log))
	mux.Handle(dataapi.Prefix+"/", d.api)
	mux.Handle("GET /openapi.json", d.api)
	mux.Handle("GET /docs/api", d.api)
	for prefix, h := range d.mounts {
		mux.Handle(prefix, h)
	}
	wd := web.Deps{Auth: d.identity, Ledger: d.ledger, Logger: d.log, Secure: d.secure,
		ConsentFlow: d.oauth, Consents: d.consent, Audit: d.audit, Insights: d.insights, Events: d.events}
	if d.inbox != nil { // never a nil *Hub inside the interface
		wd.Inbox = d.inbox
	}
	if d.api != nil { // nor a nil *dataapi.Server
		wd.Payments, wd.Performance = d.api, d.api
	}
	if d.alerts != nil {
		wd.Alerts = d.alerts
	}
	mux.Handle("/", web.New(wd))
	return requestID(m.wrap(mux))
}

// requestID gives every request an id (or keeps a sane incoming one), puts it
// in the context for logs and problems, and echoes it.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(c rune) bool { return c < '!' || c > '~' }) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(bankbridge.WithRequestID(r.Context(), id)))
	})
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
