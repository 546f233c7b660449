package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
)

// APIPerformance is the data API's published performance (12 CFR
// 1033.311): per partner per month, the rolling 13 months, newest first.
// *dataapi.Server implements it.
type APIPerformance interface {
	Performance(ctx context.Context) ([]records.MonthReport, error)
}

// performanceRoles may open the API performance page.
var performanceRoles = []identity.Role{identity.Administrator, identity.Compliance}

// performanceMonths is how many months the page shows per partner: the
// rolling window 1033 asks a data provider to publish.
const performanceMonths = 13

// perfRow is one month of one partner on the page.
type perfRow struct {
	Month     string // "2026-05"
	Label     string // "May 2026"
	Responses int64
	Proper    int64
	Share     string // "99.87 %"; "" with no responses
	MeetsGoal bool
	P50       string
	P90       string
	P99       string
}

// perfPartner is one partner's 13 months, newest first.
type perfPartner struct {
	Partner  string
	Rows     []perfRow
	Missed   int // months with responses below the goal
	Answered int // months with responses
}

type performanceView struct {
	Goal     string // "99.5 %"
	Within   string // "3,500 ms"
	From, To string // the window's first and last month labels
	Partners []perfPartner
}

// consolePerformance shows, per partner and per month for a rolling 13
// months, the share of proper responses against the 99.5 % goal and the
// latency percentiles.
func (s *server) consolePerformance(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Performance == nil {
		s.notFound(w, r, v)
		return
	}
	reports, err := s.Performance.Performance(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	months := rollingMonths(s.Now(), performanceMonths)
	view := performanceView{Goal: percent(records.ProperGoal), Within: fmt.Sprintf("%s ms", ledger.Grouped(records.ProperWithin.Milliseconds())),
		From: monthLabel(months[len(months)-1]), To: monthLabel(months[0])}
	byPartner := map[string]map[string]records.MonthReport{}
	for _, m := range reports {
		if m.Month < months[len(months)-1] || m.Month > months[0] {
			continue // the store's window and the page's may differ by a clock tick
		}
		if byPartner[m.Partner] == nil {
			byPartner[m.Partner] = map[string]records.MonthReport{}
		}
		byPartner[m.Partner][m.Month] = m
	}
	names := make([]string, 0, len(byPartner))
	for p := range byPartner {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, name := range names {
		pp := perfPartner{Partner: name}
		for _, month := range months {
			row := perfRow{Month: month, Label: monthLabel(month)}
			if m, ok := byPartner[name][month]; ok && m.Responses > 0 {
				row.Responses, row.Proper, row.MeetsGoal = m.Responses, m.Proper, m.MeetsGoal()
				row.Share = percent(m.Share)
				row.P50, row.P90, row.P99 = latency(m.P50), latency(m.P90), latency(m.P99)
				pp.Answered++
				if !row.MeetsGoal {
					pp.Missed++
				}
			}
			pp.Rows = append(pp.Rows, row)
		}
		view.Partners = append(view.Partners, pp)
	}
	pg := s.consolePage(v, "API performance")
	pg.Nav = "performance"
	pg.Data = view
	s.render(w, r, http.StatusOK, "console_performance", pg)
}

// consolePerformanceCSV exports the same figures, one line per partner and
// month with responses, for a regulator or a spreadsheet.
func (s *server) consolePerformanceCSV(w http.ResponseWriter, r *http.Request, v *visit) {
	if s.Performance == nil {
		s.notFound(w, r, v)
		return
	}
	reports, err := s.Performance.Performance(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	months := rollingMonths(s.Now(), performanceMonths)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="api-performance-%s-to-%s.csv"`, months[len(months)-1], months[0]))
	cw := csv.NewWriter(w)
	cw.Write([]string{"month", "partner", "responses", "proper_responses", "proper_share", "meets_goal", "p50_ms", "p90_ms", "p99_ms"})
	for _, m := range reports {
		if m.Month < months[len(months)-1] || m.Month > months[0] {
			continue
		}
		cw.Write(csvSafe([]string{m.Month, m.Partner, strconv.FormatInt(m.Responses, 10), strconv.FormatInt(m.Proper, 10),
			strconv.FormatFloat(m.Share, 'f', 6, 64), strconv.FormatBool(m.MeetsGoal()),
			csvMillis(m.P50), csvMillis(m.P90), csvMillis(m.P99)}))
	}
	cw.Flush()
}

// rollingMonths lists the n months ending with now's (UTC), newest first,
// as records keys them.
func rollingMonths(now time.Time, n int) []string {
	first := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	out := make([]string, n)
	for i := range out {
		out[i] = records.Month(first.AddDate(0, -i, 0))
	}
	return out
}

func monthLabel(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("Jan 2006")
}

// percent renders a share as a percentage with two decimals, rounded down
// so that 99.4996 % never reads as meeting a 99.5 % goal.
func percent(f float64) string {
	// The small epsilon keeps 0.995 (stored as 0.99499999...) at 99.5.
	return strconv.FormatFloat(math.Floor(f*10000+1e-6)/100, 'f', -1, 64) + " %"
}

// latency renders a percentile, the upper bound of its histogram bucket.
func latency(ms float64) string {
	if math.IsInf(ms, 1) {
		return fmt.Sprintf("> %s ms", ledger.Grouped(int64(records.LatencyBuckets[len(records.LatencyBuckets)-1])))
	}
	return "≤ " + ledger.Grouped(int64(ms)) + " ms"
}

func csvMillis(ms float64) string {
	if math.IsInf(ms, 1) {
		return ">" + strconv.FormatFloat(records.LatencyBuckets[len(records.LatencyBuckets)-1], 'f', -1, 64)
	}
	return strconv.FormatFloat(ms, 'f', -1, 64)
}
