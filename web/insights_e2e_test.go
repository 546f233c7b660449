package web_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/identity"
)

// TestBrowserInsights runs web/e2e/insights.mjs in headless Chromium
// against a real server with a real SQLite insights store holding 180 days
// of the demo's engagement: an analyst logs in, opens the engagement page,
// reads the charts, tables and summary, exports a CSV, filters, and a
// screenshot is saved. Prerequisites as TestBrowserTransfer (skips without
// them, fails in CI). BANKBRIDGE_E2E_INSIGHTS_SCREENSHOT keeps the
// screenshot at that path.
func TestBrowserInsights(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	const chromium = "/usr/bin/chromium"
	var missing []string
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium)
	}
	if _, err := os.Stat(filepath.Join("e2e", "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "web/e2e/node_modules")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node")
	}
	if len(missing) > 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser test prerequisites missing %v: %s", missing, e2eInstall)
		}
		t.Skipf("browser test prerequisites missing %v: %s", missing, e2eInstall)
	}

	b, _, _ := insightsBank(t, bankOptions{now: true}, 1500)
	b.staff("analyst@bank.test", identity.Analyst)
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)

	shot := os.Getenv("BANKBRIDGE_E2E_INSIGHTS_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "insights.png")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "insights.mjs"))
	cmd.Env = append(os.Environ(), "BASE_URL="+srv.URL, "EMAIL=analyst@bank.test", "PASSWORD="+password,
		"SCREENSHOT="+shot, "CHROMIUM="+chromium)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node e2e/insights.mjs: %v\n%s\n(screenshot, if any: %s)", err, out, shot)
	}
	t.Logf("%s\nscreenshot: %s", out, shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
}
