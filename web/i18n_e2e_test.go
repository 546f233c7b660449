package web_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/internal/testbrowser"
	"github.com/bankbridge/bankbridge/ledger"
)

// TestBrowserSpanish runs web/e2e/spanish.mjs in headless Chromium: switch
// to Spanish on the login page, log in, accounts, a transfer through its
// confirmation, each page <html lang="es">, and the choice followed on a
// second browser. Afterwards the choice is stored for the customer, where
// the chat reads it.
func TestBrowserSpanish(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{now: true})
	c := b.customer("Ana Ruiz", "ana@example.com")
	checking := b.account(c.ID, "Everyday checking", ledger.Checking, 250000)
	b.account(c.ID, "Rainy day savings", ledger.Savings, 1200000)
	b.move(b.funding, checking.ID, 420000, "Salary, Acme Corp")
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	testbrowser.Run(t, "e2e", "spanish.mjs", "BANKBRIDGE_E2E_SCREENSHOT", 2*time.Minute,
		"BASE_URL="+srv.URL, "EMAIL=ana@example.com", "PASSWORD="+password)
	if l, err := b.langs.Language(context.Background(), c.ID); err != nil || l != assistant.Spanish {
		t.Errorf("stored language %q, %v; want es", l, err)
	}
}
