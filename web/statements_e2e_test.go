package web_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/internal/testbrowser"
	"github.com/bankbridge/bankbridge/statement"
)

// TestBrowserStatements runs web/e2e/statements.mjs in headless Chromium
// against a real server on a loopback port with real SQLite stores: from
// the history to a transaction's details and back by keyboard, then the
// statements page and both downloads. BANKBRIDGE_E2E_STATEMENTS_SCREENSHOT
// keeps the statements page's screenshot at that path (the detail page's
// beside it, "-transaction" added).
func TestBrowserStatements(t *testing.T) {
	t.Parallel()
	month := statement.Month(time.Now()).AddDate(0, -1, 0)
	b := newStatementBank(t, bankOptions{now: true}, month)
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	testbrowser.Run(t, "e2e", "statements.mjs", "BANKBRIDGE_E2E_STATEMENTS_SCREENSHOT", 2*time.Minute,
		"BASE_URL="+srv.URL, "EMAIL=ada@example.com", "PASSWORD="+password, "ACCOUNT="+fmt.Sprint(b.acct.ID),
		"PURCHASE="+b.purchase.Description, "MERCHANT=Harbor Coffee Co.", "MONTH="+month.Format("January 2006"))
}
