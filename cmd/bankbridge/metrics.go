package main

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics counts requests and their latency by route pattern (never by
// raw path, which would leak ids into labels and explode cardinality).
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bankbridge_http_requests_total", Help: "HTTP requests by route pattern, method and status code."}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bankbridge_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (m *httpMetrics) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern // set by ServeMux on the request it routed
		if route == "" {
			route = "unmatched"
		}
		if sw.code == 0 {
			sw.code = http.StatusOK
		}
		m.requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Inc()
		m.duration.WithLabelValues(route, r.Method).Observe(time.Since(start).Seconds())
	})
}

// ledgerMetrics observes the ledger's group commit: how many transfers share
// a database transaction and how long the store takes with them.
type ledgerMetrics struct {
	batchSize prometheus.Histogram
	batchTime prometheus.Histogram
	failed    prometheus.Counter
}

func newLedgerMetrics(reg prometheus.Registerer) *ledgerMetrics {
	m := &ledgerMetrics{
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bankbridge_ledger_batch_ops", Help: "Ledger operations per database transaction (group commit).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 13)}),
		batchTime: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "bankbridge_ledger_batch_seconds", Help: "Time the store takes to apply and commit one batch.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "bankbridge_ledger_batch_failures_total", Help: "Batches the store could not commit (nothing of them was written)."}),
	}
	reg.MustRegister(m.batchSize, m.batchTime, m.failed)
	return m
}

func (m *ledgerMetrics) observe(ops int, took time.Duration, err error) {
	m.batchSize.Observe(float64(ops))
	m.batchTime.Observe(took.Seconds())
	if err != nil {
		m.failed.Inc()
	}
}
