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
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
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
	led := ledger.New(b.ledger, b.ledgerOptions())
	defer led.Close()
	ids := identity.New(b.identity, identity.Options{})

	if c.Demo {
		seeded, err := demo.Seeded(ctx, b.ledger)
		if err != nil {
			return err
		}
		if !seeded {
			fmt.Fprintf(e.stdout, "Empty database: seeding the demo bank (%d customers, 90 days)...\n", c.DemoSize)
			res, err := demo.Seed(ctx, demo.Deps{Identity: ids, Ledger: b.ledger}, demo.Options{Customers: c.DemoSize})
			if err != nil {
				return fmt.Errorf("seed demo bank: %w", err)
			}
			fmt.Fprintf(e.stdout, "Seeded %d customers, %d accounts, %d transfers in %s.\n", res.Customers, res.Accounts, res.Transfers, res.Elapsed.Round(time.Millisecond))
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

	handler := newServer(serverDeps{log: log, backend: b, ledger: led, identity: ids, secure: c.TLSCert != ""})
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
	fmt.Fprintf(e.stdout, "bankbridge is running (%s).\n  Customer app:  %s/\n  Bank console:  %s/console/\n  Health:        %s/healthz   Metrics: %s/metrics\n  listening on %s\n",
		b, base, base, base, base, ln.Addr())
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
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

type serverDeps struct {
	log      *slog.Logger
	backend  *backend
	ledger   *ledger.Service
	identity *identity.Service
	secure   bool
}

// newServer is the whole HTTP surface: health, metrics, and the web app.
// Every route is listed here, in one place.
func newServer(d serverDeps) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
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
	mux.Handle("/", web.New(web.Deps{Auth: d.identity, Ledger: d.ledger, Logger: d.log, Secure: d.secure}))
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
