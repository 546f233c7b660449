package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bankbridge/bankbridge/assistant"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/auditapi"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/oauth"
	"github.com/bankbridge/bankbridge/problem"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/scheduled"
	"github.com/bankbridge/bankbridge/web"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ServerDeps is what NewServer serves. Inbox, API and Alerts may be nil
// (the channel, the partner API or alerts are off).
type ServerDeps struct {
	Log      *slog.Logger
	Reg      *prometheus.Registry
	Backend  *Backend
	Ledger   *ledger.Service
	Identity *identity.Service
	Audit    *audit.Log
	Consent  *consent.Service
	OAuth    *oauth.Server
	API      *dataapi.Server
	Mounts   map[string]http.Handler // the messenger webhook and, in the demo, platformsim
	Inbox    *channels.Hub
	Alerts   *alerts.Service
	Insights *insights.Service
	Events   *insights.Recorder
	Rails    *rails.Service // payees at other banks, payments over ACH; nil: those pages answer 404
	// Scheduled backs the scheduled payments' pages; nil: they answer 404.
	Scheduled *scheduled.Service
	Secure    bool
	// Mail sends password reset e-mails with links to PublicURL; nil: the
	// web app tells customers to call instead.
	Mail      *alerts.Mailer
	PublicURL string
	// Location is the bank's time zone for the pages' dates; nil for UTC.
	Location *time.Location
	// Draining, once true, makes /readyz answer 503 while every other
	// route still serves: a load balancer takes the instance out before it
	// stops. Nil: never.
	Draining *atomic.Bool
}

// NewServer is the whole HTTP surface: health, metrics, and the web app.
// Every route is listed here, in one place.
func NewServer(d ServerDeps) http.Handler {
	reg := d.Reg
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := NewHTTPMetrics(reg)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if d.Draining != nil && d.Draining.Load() {
			problem.Write(w, r, bankbridge.E(bankbridge.Unavailable, "draining", "this instance is shutting down; send requests to another"))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := d.Backend.Ping(ctx); err != nil {
			d.Log.Warn("not ready", "err", err)
			problem.Write(w, r, bankbridge.E(bankbridge.Unavailable, "not_ready", "the database is not reachable"))
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/oauth/", d.OAuth.Handler())
	mux.Handle("/.well-known/", d.OAuth.Handler())
	mux.Handle("/audit/v1/", auditapi.New(d.Audit, d.Log))
	mux.Handle(dataapi.Prefix+"/", d.API)
	mux.Handle("GET /openapi.json", d.API)
	mux.Handle("GET /docs/api", d.API)
	for prefix, h := range d.Mounts {
		mux.Handle(prefix, h)
	}
	wd := web.Deps{Auth: d.Identity, Ledger: d.Ledger, Logger: d.Log, Secure: d.Secure, Limits: d.Backend.Limits,
		ConsentFlow: d.OAuth, Consents: d.Consent, Audit: d.Audit, Insights: d.Insights, Events: d.Events,
		PublicURL: d.PublicURL, Location: d.Location}
	if d.Mail != nil { // never a nil *Mailer inside the interface
		wd.Mail = d.Mail
	}
	// The customer's language is the one the chat keeps: one choice for
	// web, e-mail and chat (assistant.Languages).
	if ls, ok := d.Backend.Messenger.(assistant.Languages); ok && d.Backend.Messenger != nil {
		wd.Languages = ls
	}
	// Each customer's time zone, beside the language (migration 0052).
	if tz, ok := d.Backend.Messenger.(assistant.TimeZones); ok && d.Backend.Messenger != nil {
		wd.TimeZones = tz
	}
	if d.Inbox != nil { // never a nil *Hub inside the interface
		wd.Inbox = d.Inbox
	}
	if d.API != nil { // nor a nil *dataapi.Server
		wd.Payments, wd.Performance = d.API, d.API
	}
	if d.Alerts != nil {
		wd.Alerts = d.Alerts
	}
	if d.Backend.Mirror != nil && d.Backend.Rails != nil {
		wd.Mirror = rails.NewMirror(d.Backend.Mirror, d.Backend.Ledger, rails.MirrorOptions{AccountByNumber: d.Backend.Rails.AccountByNumber})
	}
	if d.Rails != nil {
		wd.Rails = d.Rails
	}
	wd.Scheduled = d.Scheduled
	mux.Handle("/", web.New(wd))
	return RequestID(m.Wrap(mux))
}

// RequestID gives every request an id (or keeps a sane incoming one), puts it
// in the context for logs and problems, and echoes it.
func RequestID(next http.Handler) http.Handler {
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
