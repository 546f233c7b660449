package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/ledger"
)

// TestLanguageChosenOnceEverywhere: before login Accept-Language picks the
// pages' language; a choice on the web is stored for the customer (the same
// setting the chat reads) and follows them to another browser; a choice made
// in chat shows on the web; the console stays English. Both engines.
func TestLanguageChosenOnceEverywhere(t *testing.T) {
	t.Parallel()
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			b := newBank(t, bankOptions{postgres: pg})
			c := b.customer("Ana Ruiz", "ana@example.com")
			b.account(c.ID, "Checking", ledger.Checking, 10000)
			stored := func() assistant.Language {
				t.Helper()
				l, err := b.langs.Language(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			spanish := func(p page, where string) {
				t.Helper()
				if !strings.Contains(p.body, `<html lang="es">`) || !strings.Contains(p.body, "Nunca compartas tu contraseña") {
					t.Errorf("%s: not in Spanish (status %d)\n%s", where, p.status, p.body)
				}
			}
			english := func(p page, where string) {
				t.Helper()
				if !strings.Contains(p.body, `<html lang="en">`) || !strings.Contains(p.body, "Never share your password") {
					t.Errorf("%s: not in English (status %d)\n%s", where, p.status, p.body)
				}
			}

			br := b.browser()
			br.lang = "es-MX,es;q=0.9,en;q=0.5"
			spanish(br.get("/login"), "login with Accept-Language es")
			br.login("", "ana@example.com")
			acc := br.get("/accounts")
			spanish(acc, "accounts")
			if !strings.Contains(acc.body, "Tus cuentas") && !strings.Contains(acc.body, ">Cuentas<") {
				t.Errorf("accounts: no Spanish heading\n%s", acc.body)
			}
			if l := stored(); l != "" {
				t.Errorf("the browser's header is not a choice, yet %q was stored", l)
			}

			// The footer's link: English, stored, back where they were.
			res := br.get("/language?lang=en&next=" + url.QueryEscape("/accounts"))
			if res.status != http.StatusSeeOther || res.loc != "/accounts" {
				t.Fatalf("footer switch: %d to %q", res.status, res.loc)
			}
			english(br.get("/accounts"), "accounts after switching to English, Accept-Language still es")
			if l := stored(); l != assistant.English {
				t.Errorf("stored %q after the switch, want en", l)
			}

			// The security page's form: Spanish.
			sec := br.get("/security")
			if !strings.Contains(sec.body, `action="/security/language"`) {
				t.Fatalf("no language form on /security\n%s", sec.body)
			}
			res = br.post("/security/language", url.Values{"csrf": {br.csrf("/security")}, "lang": {"es"}, "next": {"/security"}})
			if res.status != http.StatusSeeOther || res.loc != "/security" {
				t.Fatalf("form switch: %d to %q", res.status, res.loc)
			}
			spanish(br.get("/security"), "security after choosing Spanish")
			if l := stored(); l != assistant.Spanish {
				t.Errorf("stored %q, want es", l)
			}
			// Without the session's CSRF token the form changes nothing.
			if res := br.post("/security/language", url.Values{"csrf": {"forged"}, "lang": {"en"}}); res.status != http.StatusForbidden || stored() != assistant.Spanish {
				t.Errorf("forged form: status %d, stored %q", res.status, stored())
			}

			// Another browser, asking for English: the customer's choice wins
			// after login, and the login page after logout keeps it.
			other := b.browser()
			other.lang = "en-US"
			english(other.get("/login"), "login on a new English browser")
			other.login("", "ana@example.com")
			spanish(other.get("/accounts"), "accounts on the other browser")
			res = other.post("/logout", url.Values{"csrf": {other.csrf("/accounts")}})
			spanish(other.get("/login"), "login after logout")

			// A choice made in chat is the web's choice.
			if err := b.langs.SetLanguage(ctx, c.ID, assistant.English, b.clock.Now()); err != nil {
				t.Fatal(err)
			}
			english(br.get("/accounts"), "accounts after choosing English in chat")

			// Dates follow the language.
			if err := b.langs.SetLanguage(ctx, c.ID, assistant.Spanish, b.clock.Now()); err != nil {
				t.Fatal(err)
			}
			if p := br.get("/security"); !strings.Contains(p.body, `value="es" checked`) {
				t.Errorf("the form does not show Spanish as chosen\n%s", p.body)
			}

			// Bad input: an unknown language, a redirect off the site.
			if res := br.get("/language?lang=fr"); res.status != http.StatusBadRequest {
				t.Errorf("lang=fr: status %d, want 400", res.status)
			}
			if res := br.get("/language?lang=es&next=" + url.QueryEscape("//evil.example/")); res.status != http.StatusSeeOther || res.loc != "/" {
				t.Errorf("next off the site: %d to %q, want / ", res.status, res.loc)
			}

			// The console stays English whatever the browser asks for.
			b.staff("sam@bank.example", "support")
			staff := b.browser()
			staff.lang = "es"
			if p := staff.get("/console/login"); !strings.Contains(p.body, `<html lang="en">`) {
				t.Errorf("console login not English\n%s", p.body)
			}
		})
	}
}

// TestSpanishTransferWalk: in Spanish, the transfer form, its check and
// confirm step, and the receipt read in Spanish, with Spanish dates.
func TestSpanishTransferWalk(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	c := b.customer("Ana Ruiz", "ana@example.com")
	from := b.account(c.ID, "Checking", ledger.Checking, 10000)
	to := b.account(c.ID, "Savings", ledger.Savings, 0)
	br := b.browser()
	br.get("/language?lang=es")
	br.login("", "ana@example.com")
	if p := br.get("/transfer"); !strings.Contains(p.body, "Mover dinero") {
		t.Errorf("transfer form not in Spanish\n%s", p.body)
	}
	if p := br.review(from.ID, to.ID, "0"); !strings.Contains(p.body, "Escribe un importe mayor que cero.") {
		t.Errorf("a form error is not in Spanish (status %d)\n%s", p.status, p.body)
	}
	confirm := br.review(from.ID, to.ID, "12.50")
	if !strings.Contains(confirm.body, "Revisa y confirma") {
		t.Fatalf("review not in Spanish (status %d)\n%s", confirm.status, confirm.body)
	}
	res := br.post("/transfer/confirm", br.confirmForm(confirm))
	if res.status != http.StatusSeeOther {
		t.Fatalf("confirm: %d\n%s", res.status, res.body)
	}
	receipt := br.get(res.loc)
	if !strings.Contains(receipt.body, "Transferencia enviada") || !strings.Contains(receipt.body, "12.50 USD") {
		t.Errorf("receipt not in Spanish\n%s", receipt.body)
	}
	if p := br.get("/accounts/" + itoa(int64(from.ID))); !strings.Contains(p.body, "14 mar 2026") {
		t.Errorf("history dates not in Spanish (want 14 mar 2026)\n%s", p.body)
	}
}
