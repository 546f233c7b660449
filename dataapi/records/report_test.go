package records_test

import (
	"math"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/dataapi/records"
)

func TestReport(t *testing.T) {
	t.Parallel()
	ps := []records.Performance{
		{Month: "2026-04", Partner: "a", Bucket: 0, Responses: 98, Proper: 98},
		{Month: "2026-04", Partner: "a", Bucket: 4, Responses: 1, Proper: 1},
		{Month: "2026-04", Partner: "a", Bucket: len(records.LatencyBuckets), Responses: 1, Proper: 0},
		{Month: "2026-05", Partner: "a", Bucket: 1, Responses: 10, Proper: 10},
	}
	got := records.Report(ps)
	if len(got) != 2 || got[0].Month != "2026-05" || got[1].Month != "2026-04" {
		t.Fatalf("order: %+v", got)
	}
	apr := got[1]
	if apr.Responses != 100 || apr.Proper != 99 || apr.Share != 0.99 || apr.MeetsGoal() || apr.P50 != 5 || apr.P99 != 100 {
		t.Errorf("April = %+v", apr)
	}
	if may := got[0]; may.P50 != 10 || may.P99 != 10 || !may.MeetsGoal() {
		t.Errorf("May = %+v", may)
	}
	if q := records.Report([]records.Performance{{Month: "m", Partner: "b", Bucket: len(records.LatencyBuckets), Responses: 1}})[0].P50; !math.IsInf(q, 1) {
		t.Errorf("overflow bucket p50 = %v", q)
	}
	for _, c := range []struct {
		d    time.Duration
		want int
	}{{time.Millisecond, 0}, {5 * time.Millisecond, 0}, {6 * time.Millisecond, 1}, {3500 * time.Millisecond, 9}, {time.Minute, len(records.LatencyBuckets)}} {
		if got := records.Bucket(c.d); got != c.want {
			t.Errorf("Bucket(%v) = %d, want %d", c.d, got, c.want)
		}
	}
	if got := records.Since(time.Date(2026, 5, 31, 23, 0, 0, 0, time.UTC), 13); got != "2025-05" {
		t.Errorf("Since = %s", got)
	}
}
