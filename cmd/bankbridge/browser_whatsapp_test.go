package main

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/internal/testbrowser"
)

// TestBrowserWhatsApp runs web/e2e/whatsapp.mjs in headless Chromium
// against the real `bankbridge serve --whatsapp-sim` demo (SQLite in a
// temporary data folder, port 0, the Cloud API emulator at /sim/whatsapp/):
// the same journey and checks as TestBrowserMessenger. A simulated person
// links the demo customer's account through the bank's login and consent
// (and WhatsApp's click-to-chat back), asks the balance
// (minimal, then full), pays Sam 20 with a confirmation, and unlinks. The
// database is then checked: one chat payment of 20.00 to Sam, the whatsapp
// consent revoked, the full balance recorded as a disclosure. Without
// Chromium or the Node packages it skips, except in CI (CI set) where it
// fails. BANKBRIDGE_E2E_SCREENSHOT keeps the screenshot at that path.
func TestBrowserWhatsApp(t *testing.T) {
	dir := t.TempDir()
	addr, stop := startServer(t, nil, "--data", dir, "--demo-customers", "15", "--whatsapp-sim")
	// The bank's public URL (its redirects and the sim's links) is
	// http://localhost:<port>; the browser must stay on that origin.
	base := strings.Replace(addr, "://127.0.0.1:", "://localhost:", 1)

	testbrowser.Run(t, filepath.Join("..", "..", "web", "e2e"), "whatsapp.mjs", "BANKBRIDGE_E2E_SCREENSHOT", 3*time.Minute,
		"BASE_URL="+base, "EMAIL="+demo.CustomerEmail, "PASSWORD="+demo.CustomerPassword, "PERSON=noor")
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}

	// What the browser did, as the bank recorded it.
	cust := chatJourneyRecorded(t, dir, "whatsapp")

	// The chat counted in the engagement reports, on WhatsApp's own
	// channel: the linked customer's requests and the payment (read from
	// the daily activity rows, the finest grain the reports keep).
	raw, err := sql.Open("sqlite3_bankbridge_reader", "file:"+filepath.Join(dir, "bankbridge.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var intents, payments int
	if err := raw.QueryRow(`SELECT COALESCE(SUM(intents), 0), COALESCE(SUM(payments), 0) FROM insights_activity WHERE customer = ? AND channel = 'whatsapp'`,
		int64(cust)).Scan(&intents, &payments); err != nil {
		t.Fatal(err)
	}
	if intents < 4 || payments != 1 {
		t.Errorf("engagement on whatsapp: %d intents, %d payments; want the linked chat's requests (at least 4) and its one payment", intents, payments)
	}
}
