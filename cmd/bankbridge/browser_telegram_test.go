package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testbrowser"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// TestBrowserTelegram runs web/e2e/telegram.mjs in headless Chromium
// against `bankbridge serve --telegram-sim` (the Bot API emulator at
// /sim/telegram/, its webhook set by the bank at start): a simulated person
// links the demo customer's account through the bank's login and consent
// and the bot's deep link, then asks the balance. The database is then
// checked: one active telegram consent, and the full balance recorded as a
// disclosure to the telegram partner.
func TestBrowserTelegram(t *testing.T) {
	dir := t.TempDir()
	addr, stop := startServer(t, nil, "--data", dir, "--demo-customers", "15", "--telegram-sim")
	base := strings.Replace(addr, "://127.0.0.1:", "://localhost:", 1)

	testbrowser.Run(t, filepath.Join("..", "..", "web", "e2e"), "telegram.mjs", "BANKBRIDGE_E2E_SCREENSHOT", 3*time.Minute,
		"BASE_URL="+base, "EMAIL="+demo.CustomerEmail, "PASSWORD="+demo.CustomerPassword, "PERSON=kim")
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}

	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "bankbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	bg := context.Background()
	cred, err := db.Identity().CredentialByEmail(bg, identity.RealmCustomer, demo.CustomerEmail)
	if err != nil {
		t.Fatal(err)
	}
	cust := bankbridge.CustomerID(cred.ID)
	grants, err := db.Consent().CustomerGrants(bg, cust)
	if err != nil {
		t.Fatal(err)
	}
	var active int
	for _, g := range grants {
		if g.Partner == "telegram" && g.Status == consent.Active {
			active++
		}
	}
	if active != 1 {
		t.Errorf("%d active telegram consents, want 1: %+v", active, grants)
	}
	recs, err := db.Audit().Records(bg, audit.Query{Customer: cust, Kind: audit.PlatformMessage, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, r := range recs.Records {
		found = found || (r.Partner == "telegram" && strings.HasPrefix(r.Detail, "telegram: balance"))
	}
	if !found {
		t.Errorf("no disclosure of the balance to the telegram partner among %d records", len(recs.Records))
	}
}
