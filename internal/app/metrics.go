package app

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTPMetrics counts requests and their latency by route pattern (never by
// raw path, which would leak ids into labels and explode cardinality).
type HTTPMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewHTTPMetrics registers the request counters and latency histograms on reg.
func NewHTTPMetrics(reg prometheus.Registerer) *HTTPMetrics {
	m := &HTTPMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bankbridge_http_requests_total", Help: "HTTP requests by route pattern, method and status code."}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bankbridge_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// StatusWriter remembers the status code a handler answered (Code, 0
// until it writes).
type StatusWriter struct {
	http.ResponseWriter
	Code int
}

// WriteHeader records the first code and passes it on.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Code == 0 {
		w.Code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records 200 when no code was written, as net/http does.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Code == 0 {
		w.Code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Wrap counts and times every request next serves, by route pattern.
func (m *HTTPMetrics) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern // set by ServeMux on the request it routed
		if route == "" {
			route = "unmatched"
		}
		if sw.Code == 0 {
			sw.Code = http.StatusOK
		}
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.Code)).Inc()
		m.duration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
	})
}

// LedgerMetrics observes the ledger's group commit: how many transfers share
// a database transaction and how long the store takes with them.
type LedgerMetrics struct {
	batchSize prometheus.Histogram
	batchTime prometheus.Histogram
	failed    prometheus.Counter
}

// NewLedgerMetrics registers the group-commit histograms on reg.
func NewLedgerMetrics(reg prometheus.Registerer) *LedgerMetrics {
	m := &LedgerMetrics{
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bankbridge_ledger_batch_ops", Help: "Ledger operations per database transaction (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13)}),
		batchTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bankbridge_ledger_batch_seconds", Help: "Time the store takes to apply and commit one batch.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "bankbridge_ledger_batch_failures_total", Help: "Batches the store could not commit (nothing of them was written)."}),
	}
	reg.MustRegister(m.batchSize, m.batchTime, m.failed)
	return m
}

// Observe is ledger.Options.OnBatch: one batch, its size, time and outcome.
func (m *LedgerMetrics) Observe(ops int, took time.Duration, err error) {
	m.batchSize.Observe(float64(ops))
	m.batchTime.Observe(took.Seconds())
	if err != nil {
		m.failed.Inc()
	}
}
