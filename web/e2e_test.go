package web_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/internal/testbrowser"
	"github.com/bankbridge/bankbridge/ledger"
)

// TestBrowserTransfer runs web/e2e/bank.mjs in headless Chromium against a
// real server on a loopback port with real SQLite stores: log in, read the
// balances, move money through the confirmation step, see it listed. Without
// Chromium or the Node packages it skips, except in CI (CI set) where it fails.
// BANKBRIDGE_E2E_SCREENSHOT keeps the screenshot at that path.
func TestBrowserTransfer(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{now: true})
	c := b.customer("Grace Hopper", "grace@example.com")
	checking := b.account(c.ID, "Everyday checking", ledger.Checking, 250000)
	b.account(c.ID, "Rainy day savings", ledger.Savings, 1200000)
	// Some history so the page looks like a real one.
	b.move(b.funding, checking.ID, 420000, "Salary, Acme Corp")
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)

	testbrowser.Run(t, "e2e", "bank.mjs", "BANKBRIDGE_E2E_SCREENSHOT", 2*time.Minute,
		"BASE_URL="+srv.URL, "EMAIL=grace@example.com", "PASSWORD="+password)
}
