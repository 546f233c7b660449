package records

import (
	"math"
	"sort"
	"time"
)

// ProperWithin is the longest a response may take and still be proper:
// 12 CFR 1033.311(c)(1)(i)(B) counts a response as proper only within
// 3,500 ms (and never a 5xx: an answer must fulfil the query or say why
// not).
const ProperWithin = 3500 * time.Millisecond

// ProperGoal is the share of proper responses a data provider must reach
// each month (12 CFR 1033.311(c)(1)(i)(A)).
const ProperGoal = 0.995

// Bucket returns the latency bucket of d.
func Bucket(d time.Duration) int {
	ms := float64(d) / float64(time.Millisecond)
	for i, b := range LatencyBuckets {
		if ms <= b {
			return i
		}
	}
	return len(LatencyBuckets)
}

// MonthReport is one partner's published performance for one month.
type MonthReport struct {
	Month     string
	Partner   string
	Responses int64
	Proper    int64
	// Share is Proper/Responses (1 with no responses).
	Share float64
	// P50, P90 and P99 are latency percentiles in milliseconds, as the
	// upper bound of the histogram bucket holding them (+Inf past the last).
	P50, P90, P99 float64
}

// MeetsGoal reports whether the month reached ProperGoal.
func (m MonthReport) MeetsGoal() bool { return m.Share >= ProperGoal }

// Report folds stored counters into one report per month and partner,
// newest month first, partners by name.
func Report(ps []Performance) []MonthReport {
	type key struct{ month, partner string }
	hist := map[key][]int64{}
	out := map[key]*MonthReport{}
	for _, p := range ps {
		k := key{p.Month, p.Partner}
		r := out[k]
		if r == nil {
			r = &MonthReport{Month: p.Month, Partner: p.Partner}
			out[k] = r
			hist[k] = make([]int64, len(LatencyBuckets)+1)
		}
		r.Responses += p.Responses
		r.Proper += p.Proper
		if p.Bucket >= 0 && p.Bucket <= len(LatencyBuckets) {
			hist[k][p.Bucket] += p.Responses
		}
	}
	res := make([]MonthReport, 0, len(out))
	for k, r := range out {
		r.Share = 1
		if r.Responses > 0 {
			r.Share = float64(r.Proper) / float64(r.Responses)
		}
		r.P50, r.P90, r.P99 = quantile(hist[k], r.Responses, 0.50), quantile(hist[k], r.Responses, 0.90), quantile(hist[k], r.Responses, 0.99)
		res = append(res, *r)
	}
	sort.Slice(res, func(i, j int) bool {
		if res[i].Month != res[j].Month {
			return res[i].Month > res[j].Month
		}
		return res[i].Partner < res[j].Partner
	})
	return res
}

func quantile(h []int64, n int64, q float64) float64 {
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i, c := range h {
		seen += c
		if seen >= rank {
			if i < len(LatencyBuckets) {
				return LatencyBuckets[i]
			}
			return math.Inf(1)
		}
	}
	return math.Inf(1)
}

// Since returns the first month of the rolling window of n months ending
// with now's month: Since(now, 13) is the month a year before now's.
func Since(now time.Time, n int) string {
	m := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	return Month(m.AddDate(0, -(n - 1), 0))
}
