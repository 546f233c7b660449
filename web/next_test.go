package web_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/internal/testbrowser"
	"github.com/bankbridge/bankbridge/web"
)

// TestBrowserNext takes every form of TestSafeNext to headless Chromium:
// after logging in from /login?next=<form>, the browser must be on this
// site, and on /accounts when the form was refused. Go's URL parser is not
// a browser's (WHATWG) one; this is the check that counts.
func TestBrowserNext(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{now: true})
	b.customer("Grace Hopper", "grace@example.com")
	srv := httptest.NewServer(b.handler)
	t.Cleanup(srv.Close)
	forms, err := json.Marshal(web.NextForms)
	if err != nil {
		t.Fatal(err)
	}
	testbrowser.Run(t, "e2e", "next.mjs", "BANKBRIDGE_E2E_NEXT_SCREENSHOT", 3*time.Minute,
		"BASE_URL="+srv.URL, "EMAIL=grace@example.com", "PASSWORD="+password, "FORMS="+string(forms))
}
