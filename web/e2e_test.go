package web_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/ledger"
)

// e2eInstall is how to get what the browser test needs.
const e2eInstall = "install Chromium and the test's Node packages: " +
	"apt-get install -y chromium nodejs npm && (cd web/e2e && npm ci --no-audit --no-fund)"

// TestBrowserTransfer runs web/e2e/bank.mjs in headless Chromium against a
// real server on a loopback port with real SQLite stores: log in, read the
// balances, move money through the confirmation step, see it listed. Without
// Chromium or the Node packages it skips, except in CI (CI set) where it fails.
// BANKBRIDGE_E2E_SCREENSHOT keeps the screenshot at that path.
func TestBrowserTransfer(t *testing.T) {
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

	b := newBank(t, bankOptions{now: true})
	c := b.customer("Grace Hopper", "grace@example.com")
	checking := b.account(c.ID, "Everyday checking", ledger.Checking, 250000)
	b.account(c.ID, "Rainy day savings", ledger.Savings, 1200000)
	// Some history so the page looks like a real one.
	b.move(b.funding, checking.ID, 420000, "Salary, Acme Corp")
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)

	shot := os.Getenv("BANKBRIDGE_E2E_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "bank.png")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("e2e", "bank.mjs"))
	cmd.Env = append(os.Environ(), "BASE_URL="+srv.URL, "EMAIL=grace@example.com", "PASSWORD="+password,
		"SCREENSHOT="+shot, "CHROMIUM="+chromium)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node e2e/bank.mjs: %v\n%s\n(screenshot, if any: %s)", err, out, shot)
	}
	t.Logf("%s\nscreenshot: %s", out, shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
}
