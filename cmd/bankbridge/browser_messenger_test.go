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
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// TestBrowserMessenger runs web/e2e/messenger.mjs in headless Chromium
// against the real `bankbridge serve` demo (SQLite in a temporary data
// folder, port 0, platformsim at /sim/): a simulated person links the demo
// customer's account through the bank's login and consent, asks the balance
// (minimal, then full), pays Sam 20 with a confirmation, and unlinks. The
// database is then checked: one chat payment of 20.00 to Sam, the messenger
// consent revoked, the full balance recorded as a disclosure. Without
// Chromium or the Node packages it skips, except in CI (CI set) where it
// fails. BANKBRIDGE_E2E_SCREENSHOT keeps the screenshot at that path.
func TestBrowserMessenger(t *testing.T) {
	dir := t.TempDir()
	addr, stop := startServer(t, nil, "--data", dir, "--demo-customers", "15")
	// The bank's public URL (its redirects and the sim's links) is
	// http://localhost:<port>; the browser must stay on that origin.
	base := strings.Replace(addr, "://127.0.0.1:", "://localhost:", 1)

	testbrowser.Run(t, filepath.Join("..", "..", "web", "e2e"), "messenger.mjs", "BANKBRIDGE_E2E_SCREENSHOT", 3*time.Minute,
		"BASE_URL="+base, "EMAIL="+demo.CustomerEmail, "PASSWORD="+demo.CustomerPassword, "PERSON=robin")
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}

	// What the browser did, as the bank recorded it.
	chatJourneyRecorded(t, dir, "messenger")
}

// chatJourneyRecorded checks what a browser walk of a chat platform (link,
// balance minimal then full, pay Sam 20, unlink) left in the bank's SQLite
// database in dir: exactly one chat payment of 20.00 into Sam's account, the
// platform's one consent revoked, the full balance recorded as a
// platform-message disclosure. It returns the demo customer.
func chatJourneyRecorded(t *testing.T, dir, platform string) bankbridge.CustomerID {
	t.Helper()
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
	payees, err := db.Ledger().Payees(bg, cust)
	if err != nil {
		t.Fatal(err)
	}
	var sam ledger.AccountID
	for _, p := range payees {
		if p.Nickname == "Sam" {
			sam = p.Account
		}
	}
	if sam == 0 {
		t.Fatalf("the demo customer has no payee Sam: %+v", payees)
	}
	hist, err := db.Ledger().History(bg, ledger.HistoryQuery{Account: sam, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var paid []ledger.Amount
	for _, e := range hist.Entries {
		if e.Transfer.Client == "chat:"+platform {
			paid = append(paid, e.Amount)
		}
	}
	if len(paid) != 1 || paid[0] != 2000 {
		t.Errorf("chat payments into Sam's account %v, want exactly one of 20.00", paid)
	}
	grants, err := db.Consent().CustomerGrants(bg, cust)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, g := range grants {
		if string(g.Partner) == platform {
			n++
			if g.Status != consent.Revoked {
				t.Errorf("%s consent %s is %s after the unlink, want revoked", platform, g.ID, g.Status)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d %s consents, want 1", n, platform)
	}
	recs, err := db.Audit().Records(bg, audit.Query{Customer: cust, Kind: audit.PlatformMessage, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, r := range recs.Records {
		details = append(details, r.Detail)
	}
	if got := strings.Join(details, "; "); !strings.Contains(got, platform+": balance") {
		t.Errorf("platform-message disclosures %q lack the full balance", got)
	}
	return cust
}
