package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// e2eInstall is how to get what the browser tests need.
const e2eInstall = "install Chromium and the test's Node packages: " +
	"apt-get install -y chromium nodejs npm && (cd web/e2e && npm ci --no-audit --no-fund)"

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
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	const chromium = "/usr/bin/chromium"
	e2e := filepath.Join("..", "..", "web", "e2e")
	var missing []string
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium)
	}
	if _, err := os.Stat(filepath.Join(e2e, "node_modules", "playwright-core")); err != nil {
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

	dir := t.TempDir()
	addr, stop := startServer(t, nil, "--data", dir, "--demo-customers", "15")
	// The bank's public URL (its redirects and the sim's links) is
	// http://localhost:<port>; the browser must stay on that origin.
	base := strings.Replace(addr, "://127.0.0.1:", "://localhost:", 1)

	shot := os.Getenv("BANKBRIDGE_E2E_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "messenger.png")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(e2e, "messenger.mjs"))
	cmd.Env = append(os.Environ(), "BASE_URL="+base, "EMAIL="+demo.CustomerEmail, "PASSWORD="+demo.CustomerPassword,
		"PERSON=robin", "SCREENSHOT="+shot, "CHROMIUM="+chromium)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node web/e2e/messenger.mjs: %v\n%s\n(screenshot, if any: %s)", err, out, shot)
	}
	t.Logf("%s\nscreenshot: %s", out, shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Fatalf("no screenshot at %s: %v", shot, err)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}

	// What the browser did, as the bank recorded it.
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
		if e.Transfer.Client == "chat:messenger" {
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
	var messenger int
	for _, g := range grants {
		if g.Partner == "messenger" {
			messenger++
			if g.Status != consent.Revoked {
				t.Errorf("messenger consent %s is %s after the unlink, want revoked", g.ID, g.Status)
			}
		}
	}
	if messenger != 1 {
		t.Errorf("%d messenger consents, want 1", messenger)
	}
	recs, err := db.Audit().Records(bg, audit.Query{Customer: cust, Kind: audit.PlatformMessage, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for _, r := range recs.Records {
		details = append(details, r.Detail)
	}
	if got := strings.Join(details, "; "); !strings.Contains(got, "messenger: balance") {
		t.Errorf("platform-message disclosures %q lack the full balance", got)
	}
}
