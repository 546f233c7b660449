package web_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testbrowser"
)

// TestBrowserInsights runs web/e2e/insights.mjs in headless Chromium
// against a real server with a real SQLite insights store holding 180 days
// of the demo's engagement: an analyst logs in, opens the engagement page,
// reads the charts, tables and summary, exports a CSV, filters, and a
// screenshot is saved. Prerequisites as TestBrowserTransfer (skips without
// them, fails in CI). BANKBRIDGE_E2E_INSIGHTS_SCREENSHOT keeps the
// screenshot at that path.
func TestBrowserInsights(t *testing.T) {
	t.Parallel()
	b, _, _ := insightsBank(t, bankOptions{now: true}, 1500)
	b.staff("analyst@bank.test", identity.Analyst)
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)

	testbrowser.Run(t, "e2e", "insights.mjs", "BANKBRIDGE_E2E_INSIGHTS_SCREENSHOT", 2*time.Minute,
		"BASE_URL="+srv.URL, "EMAIL=analyst@bank.test", "PASSWORD="+password)
}
