package web_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/internal/testbrowser"
	"github.com/bankbridge/bankbridge/ledger"
)

// TestBrowserPayees runs web/e2e/payees.mjs in headless Chromium against a
// real server with real SQLite stores and the rail emulator: add a payee
// (a mistyped routing number refused by its check digit), pay it
// instantly, and read a refusal in words. Prerequisites as
// TestBrowserTransfer. BANKBRIDGE_E2E_PAYEES_SCREENSHOT keeps the
// screenshot at that path.
func TestBrowserPayees(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{now: true})
	c := b.customer("Grace Hopper", "grace@example.com")
	b.account(c.ID, "Everyday checking", ledger.Checking, 250000)
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	testbrowser.Run(t, "e2e", "payees.mjs", "BANKBRIDGE_E2E_PAYEES_SCREENSHOT", 2*time.Minute,
		"BASE_URL="+srv.URL, "EMAIL=grace@example.com", "PASSWORD="+password)
}
