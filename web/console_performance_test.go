package web_test

import (
	"context"
	"encoding/csv"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/web"
)

// perfReports is a fixed set of published figures: what
// dataapi.Server.Performance returns, newest month first.
type perfReports []records.MonthReport

func (p perfReports) Performance(context.Context) ([]records.MonthReport, error) { return p, nil }

func perfBank(t *testing.T, perf web.APIPerformance) *bank {
	t.Helper()
	b := newBank(t, bankOptions{})
	b.handler = web.New(web.Deps{Auth: b.ids, Ledger: b.ledger, Logger: slog.New(slog.DiscardHandler), Now: b.clock.Now,
		BankName: "Test Bank", Performance: perf})
	return b
}

// The bank's clock says 14 March 2026: the window is 2025-03 to 2026-03.
var samplePerf = perfReports{
	{Month: "2026-03", Partner: "budget-app", Responses: 20000, Proper: 19999, Share: 0.99995, P50: 5, P90: 10, P99: 25},
	{Month: "2026-03", Partner: "chat-app", Responses: 1000, Proper: 990, Share: 0.99, P50: 10, P90: 250, P99: math.Inf(1)},
	{Month: "2026-01", Partner: "budget-app", Responses: 200, Proper: 199, Share: 0.995, P50: 5, P90: 5, P99: 10},
	{Month: "2025-02", Partner: "=cmd", Responses: 1, Proper: 1, Share: 1, P50: 5, P90: 5, P99: 5}, // outside the window
}

func TestConsolePerformance(t *testing.T) {
	t.Parallel()
	b := perfBank(t, samplePerf)
	for _, role := range []identity.Role{identity.Administrator, identity.Compliance, identity.Support, identity.Analyst} {
		b.staff(string(role)+"@bank.example", role)
	}
	t.Run("RolesAndNav", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			role identity.Role
			want int
		}{
			{identity.Administrator, http.StatusOK}, {identity.Compliance, http.StatusOK},
			{identity.Support, http.StatusForbidden}, {identity.Analyst, http.StatusForbidden},
		} {
			br := b.browser()
			br.login("/console", string(tt.role)+"@bank.example")
			for _, path := range []string{"/console/performance", "/console/performance.csv"} {
				if got := br.get(path).status; got != tt.want {
					t.Errorf("%s %s: status %d, want %d", tt.role, path, got, tt.want)
				}
			}
			link := strings.Contains(br.get("/console/").body, `href="/console/performance"`)
			if want := tt.want == http.StatusOK; link != want {
				t.Errorf("%s: nav link shown = %v, want %v", tt.role, link, want)
			}
		}
	})
	t.Run("ShowsThirteenMonthsPerPartnerAgainstTheGoal", func(t *testing.T) {
		t.Parallel()
		br := b.browser()
		br.login("/console", "compliance@bank.example")
		p := br.get("/console/performance")
		if p.status != http.StatusOK {
			t.Fatalf("status %d:\n%s", p.status, p.body)
		}
		sections := regexp.MustCompile(`data-partner="([^"]+)"`).FindAllStringSubmatch(p.body, -1)
		var partners []string
		for _, m := range sections {
			partners = append(partners, m[1])
		}
		if diff := cmp.Diff([]string{"budget-app", "chat-app"}, partners); diff != "" {
			t.Errorf("partners (-want +got):\n%s", diff)
		}
		if n := strings.Count(p.body, "data-month="); n != 2*13 {
			t.Errorf("%d month rows, want 26", n)
		}
		for _, want := range []string{
			`aria-current="page">API performance`,
			"Mar 2025", "Mar 2026", // the window's ends
			"99.99 %", // 0.99995 rounded down, never up to 100
			"99.5 %",  // 2026-01 sits exactly on the goal
			"99 %",    // chat-app below it
			`<span class="badge warn">missed</span>`,
			"Goal missed in 1 of 1 months",
			"&gt; 5,000 ms", // p99 past the last bucket
			"no calls",
		} {
			if !strings.Contains(p.body, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Contains(p.body, "2025-02") || strings.Contains(p.body, "=cmd") {
			t.Error("page shows a month outside the 13-month window")
		}
	})
	t.Run("ExportsCSV", func(t *testing.T) {
		t.Parallel()
		br := b.browser()
		br.login("/console", "administrator@bank.example")
		p := br.get("/console/performance.csv")
		if ct := p.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("content type %q", ct)
		}
		if cd := p.header.Get("Content-Disposition"); cd != `attachment; filename="api-performance-2025-03-to-2026-03.csv"` {
			t.Errorf("content disposition %q", cd)
		}
		rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{"month", "partner", "responses", "proper_responses", "proper_share", "meets_goal", "p50_ms", "p90_ms", "p99_ms"},
			{"2026-03", "budget-app", "20000", "19999", "0.999950", "true", "5", "10", "25"},
			{"2026-03", "chat-app", "1000", "990", "0.990000", "false", "10", "250", ">5000"},
			{"2026-01", "budget-app", "200", "199", "0.995000", "true", "5", "5", "10"},
		}
		if diff := cmp.Diff(want, rows); diff != "" {
			t.Errorf("CSV (-want +got):\n%s", diff)
		}
	})
}

func TestConsolePerformanceWithoutDataAPIIsNotFound(t *testing.T) {
	t.Parallel()
	b := perfBank(t, nil)
	b.staff("admin@bank.example", identity.Administrator)
	br := b.browser()
	br.login("/console", "admin@bank.example")
	for _, path := range []string{"/console/performance", "/console/performance.csv"} {
		if got := br.get(path).status; got != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, got)
		}
	}
}
