package dataapi

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bankbridge/bankbridge/dataapi/records"
)

// Months is how many months of performance the bank keeps and shows: the
// rolling 13 that 1033 asks a data provider to publish.
const Months = 13

// perf counts every attributable response per partner, per month and per
// latency bucket, in memory, and adds the counts to the store every few
// seconds (Run); many instances add up. It also feeds Prometheus.
type perf struct {
	st  records.Store
	now func() time.Time

	mu     sync.Mutex
	counts map[perfKey]*records.Performance

	responses *prometheus.CounterVec
	latency   *prometheus.HistogramVec
}

type perfKey struct {
	month, partner string
	bucket         int
}

func newPerf(st records.Store, now func() time.Time) *perf {
	buckets := make([]float64, len(records.LatencyBuckets))
	for i, b := range records.LatencyBuckets {
		buckets[i] = b / 1000
	}
	return &perf{st: st, now: now, counts: map[perfKey]*records.Performance{},
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "bankbridge_dataapi_responses_total",
			Help: "Data API responses per partner; proper is 'true' for answers under 3.5 s that are not 5xx (12 CFR 1033.311)."}, []string{"partner", "proper"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "bankbridge_dataapi_latency_seconds",
			Help: "Data API response time per partner.", Buckets: buckets}, []string{"partner"}),
	}
}

func (p *perf) register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{p.responses, p.latency, &monthCollector{p}} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// observe counts one response.
func (p *perf) observe(partner string, status int, took time.Duration) {
	if status == 0 {
		status = 200
	}
	proper := status < 500 && took <= records.ProperWithin
	k := perfKey{records.Month(p.now()), partner, records.Bucket(took)}
	p.mu.Lock()
	c := p.counts[k]
	if c == nil {
		c = &records.Performance{Month: k.month, Partner: partner, Bucket: k.bucket}
		p.counts[k] = c
	}
	c.Responses++
	if proper {
		c.Proper++
	}
	p.mu.Unlock()
	p.responses.WithLabelValues(partner, strconv.FormatBool(proper)).Inc()
	p.latency.WithLabelValues(partner).Observe(took.Seconds())
}

// flush adds the counts gathered since the last flush to the store; on
// failure they are kept for the next one.
func (p *perf) flush(ctx context.Context) error {
	p.mu.Lock()
	batch := make([]records.Performance, 0, len(p.counts))
	for _, c := range p.counts {
		batch = append(batch, *c)
	}
	p.counts = map[perfKey]*records.Performance{}
	p.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := p.st.AddPerformance(ctx, batch); err != nil {
		p.mu.Lock()
		for _, b := range batch {
			k := perfKey{b.Month, b.Partner, b.Bucket}
			if c := p.counts[k]; c != nil {
				c.Responses += b.Responses
				c.Proper += b.Proper
			} else {
				b := b
				p.counts[k] = &b
			}
		}
		p.mu.Unlock()
		return err
	}
	return p.st.PrunePerformance(ctx, records.Since(p.now(), Months))
}

// Performance returns the published figures: per partner per month, the
// last 13 months, newest first (what the console shows).
func (s *Server) Performance(ctx context.Context) ([]records.MonthReport, error) {
	if err := s.perf.flush(ctx); err != nil {
		return nil, err
	}
	ps, err := s.d.Store.Performance(ctx, records.Since(s.d.Now(), Months))
	if err != nil {
		return nil, err
	}
	return records.Report(ps), nil
}

// monthCollector publishes the stored monthly figures of the current
// month on /metrics: the share of proper responses and latency
// percentiles per partner.
type monthCollector struct{ p *perf }

var (
	descShare = prometheus.NewDesc("bankbridge_dataapi_month_proper_share", "Share of proper responses this month per partner (goal 0.995, 12 CFR 1033.311).", []string{"partner", "month"}, nil)
	descQuant = prometheus.NewDesc("bankbridge_dataapi_month_latency_ms", "Latency percentile this month per partner (bucket upper bound, ms).", []string{"partner", "month", "quantile"}, nil)
)

func (m *monthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descShare; ch <- descQuant }

func (m *monthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	month := records.Month(m.p.now())
	ps, err := m.p.st.Performance(ctx, month)
	if err != nil {
		return
	}
	m.p.mu.Lock()
	for _, c := range m.p.counts { // not yet flushed
		if c.Month == month {
			ps = append(ps, *c)
		}
	}
	m.p.mu.Unlock()
	for _, r := range records.Report(ps) {
		ch <- prometheus.MustNewConstMetric(descShare, prometheus.GaugeValue, r.Share, r.Partner, r.Month)
		for q, v := range map[string]float64{"0.5": r.P50, "0.9": r.P90, "0.99": r.P99} {
			ch <- prometheus.MustNewConstMetric(descQuant, prometheus.GaugeValue, v, r.Partner, r.Month, q)
		}
	}
}
