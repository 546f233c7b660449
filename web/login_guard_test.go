package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/identity"
)

// tryLogin posts the customer login form once and returns the answer.
func (br *browser) tryLogin(email, pw string) page {
	br.b.t.Helper()
	p := br.get("/login")
	return br.post("/login", url.Values{"csrf": {p.field(br.b.t, csrfRe)}, "email": {email}, "password": {pw}})
}

// TestLoginSprayingFromOneAddressIsRefused: one client trying one wrong
// password on many customers is refused after 10 failures, even with a
// right password, while another address logs in; the console shows the
// address with its count.
func TestLoginSprayingFromOneAddressIsRefused(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	for i := range 12 {
		b.customer("Customer", fmt.Sprintf("c%d@example.com", i))
	}
	b.staff("sec@example.com", identity.Support)
	spray := b.browser()
	spray.remote = "203.0.113.66:40000"
	for i := range 10 {
		if res := spray.tryLogin(fmt.Sprintf("c%d@example.com", i), "Winter2026!"); res.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i, res.status)
		}
	}
	res := spray.tryLogin("c10@example.com", password)
	if res.status != http.StatusTooManyRequests || !strings.Contains(res.body, "from your network") {
		t.Fatalf("11th attempt, right password: status %d, want 429 naming the network\n%s", res.status, res.body)
	}
	other := b.browser()
	other.remote = "198.51.100.7:5555"
	if res := other.tryLogin("c11@example.com", password); res.status != http.StatusSeeOther {
		t.Fatalf("another address: status %d, want 303", res.status)
	}

	staff := b.browser()
	staff.login("/console", "sec@example.com")
	page := staff.get("/console/logins")
	if page.status != http.StatusOK {
		t.Fatalf("/console/logins: %d", page.status)
	}
	for _, want := range []string{`data-client="203.0.113.66"`, `<td data-field="failures">10</td>`, "<strong>refused</strong>",
		`<dd data-field="total">10 of a budget of 200</dd>`, `href="/console/logins?follow=1"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("console page lacks %q:\n%s", want, page.body)
		}
	}
	// Reloading by itself only when asked (WCAG 2.2.1).
	if strings.Contains(page.body, `http-equiv="refresh"`) {
		t.Errorf("the page reloads itself without being asked")
	}
	if p := staff.get("/console/logins?follow=1"); !strings.Contains(p.body, `http-equiv="refresh"`) {
		t.Errorf("following live does not reload")
	}
}

// TestLoginStrangerCannotLockOutCustomer: five wrong passwords from a
// stranger lock the account for new browsers, but the customer's browser,
// which logged in before (its device cookie), still logs in.
func TestLoginStrangerCannotLockOutCustomer(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	b.customer("Ada Lovelace", "ada@example.com")
	owner := b.browser()
	owner.remote = "192.0.2.50:1000"
	owner.login("", "ada@example.com")
	if _, ok := owner.cookies["bb_device/"]; !ok {
		t.Fatalf("no device cookie after a login: %v", owner.cookies)
	}
	owner.post("/logout", url.Values{"csrf": {owner.csrf("/accounts")}})

	stranger := b.browser()
	stranger.remote = "203.0.113.9:1000"
	for range 5 {
		stranger.tryLogin("ada@example.com", "guess")
	}
	if res := stranger.tryLogin("ada@example.com", password); res.status != http.StatusTooManyRequests {
		t.Fatalf("stranger with the right password while locked: %d, want 429", res.status)
	} else if want := "until 09:31 UTC (in about 1 minute)"; !strings.Contains(res.body, want) { // the clock reads 09:30, the first lock is 1 min
		t.Errorf("the lockout message does not say when to try again (%q)", want)
	}
	// A Spanish browser reads it, time and all, in Spanish.
	spanish := b.browser()
	spanish.remote, spanish.lang = "203.0.113.10:1000", "es"
	if res := spanish.tryLogin("ada@example.com", password); res.status != http.StatusTooManyRequests ||
		!strings.Contains(res.body, "Demasiados intentos fallidos. Por tu seguridad, iniciar sesión desde un navegador nuevo está en pausa hasta las 09:31 UTC (en aproximadamente 1 minuto).") {
		t.Errorf("the lockout message in Spanish: %d\n%s", res.status, res.body)
	}
	newBrowser := b.browser()
	newBrowser.remote = "192.0.2.50:1001"
	if res := newBrowser.tryLogin("ada@example.com", password); res.status != http.StatusTooManyRequests || !strings.Contains(res.body, "authenticator") {
		t.Fatalf("a new browser of the owner: %d, want 429 offering the authenticator\n%s", res.status, res.body)
	}
	if res := owner.tryLogin("ada@example.com", password); res.status != http.StatusSeeOther {
		t.Fatalf("the owner's known browser: %d, want 303 despite the stranger's failures\n%s", res.status, res.body)
	}
}

// TestConsoleLoginsForbiddenToAnalysts: the failed-logins page shows
// client addresses; analysts do not see it.
func TestConsoleLoginsForbiddenToAnalysts(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	b.staff("an@example.com", identity.Analyst)
	br := b.browser()
	br.login("/console", "an@example.com")
	if res := br.get("/console/logins"); res.status != http.StatusForbidden {
		t.Errorf("analyst: %d, want 403", res.status)
	}
}
