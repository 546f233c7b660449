package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/web"
)

// mailbox keeps the e-mails the app sends.
type mailbox struct {
	mu   sync.Mutex
	sent []alerts.Message
}

func (m *mailbox) Deliver(_ context.Context, _ bankbridge.CustomerID, msg alerts.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, msg)
	return nil
}

func (m *mailbox) all() []alerts.Message {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]alerts.Message(nil), m.sent...)
}

var resetLink = regexp.MustCompile(`https://bank\.test(/password/reset\?token=[A-Za-z0-9_-]+)`)

// TestPasswordResetByEmail walks the reset as a customer would: the login
// page's link, the form, the e-mail, the new password, logging in with it;
// the link then fails a second time and after 30 minutes, and an unknown
// address gets the same answer and no e-mail.
func TestPasswordResetByEmail(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	box := &mailbox{}
	b.handler = web.New(web.Deps{Auth: b.ids, Ledger: b.ledger, Logger: slog.New(slog.DiscardHandler), Now: b.clock.Now,
		BankName: "Test Bank", Mail: box, PublicURL: "https://bank.test"})
	b.customer("Ada Lovelace", "ada@example.com")
	br := b.browser()
	if p := br.get("/login"); !strings.Contains(p.body, `href="/password/forgot"`) {
		t.Fatalf("the login page has no forgotten-password link")
	}
	csrf := br.get("/password/forgot").field(t, csrfRe)
	unknown := br.post("/password/forgot", url.Values{"csrf": {csrf}, "email": {"nobody@example.com"}})
	known := br.post("/password/forgot", url.Values{"csrf": {csrf}, "email": {"ada@example.com"}})
	if unknown.status != http.StatusOK || known.status != http.StatusOK {
		t.Fatalf("forgot: %d and %d", unknown.status, known.status)
	}
	if strings.ReplaceAll(unknown.body, "nobody@example.com", "X") != strings.ReplaceAll(known.body, "ada@example.com", "X") {
		t.Errorf("the answer differs for an unknown address")
	}
	mails := box.all()
	if len(mails) != 1 || mails[0].To != "ada@example.com" {
		t.Fatalf("mails: %+v", mails)
	}
	m := resetLink.FindStringSubmatch(mails[0].Text)
	if m == nil {
		t.Fatalf("no reset link in %q", mails[0].Text)
	}
	form := br.get(m[1])
	if form.status != http.StatusOK || !strings.Contains(form.body, "New password again") {
		t.Fatalf("reset form: %d", form.status)
	}
	token := strings.TrimPrefix(m[1], "/password/reset?token=")
	if res := br.post("/password/reset", url.Values{"csrf": {csrf}, "token": {token}, "password": {"a new passphrase"}, "again": {"another one"}}); res.status != http.StatusBadRequest {
		t.Errorf("mismatched passwords: %d", res.status)
	}
	if res := br.post("/password/reset", url.Values{"csrf": {csrf}, "token": {token}, "password": {"a new passphrase"}, "again": {"a new passphrase"}}); res.status != http.StatusSeeOther || res.loc != "/login?reset=done" {
		t.Fatalf("reset: %d to %q\n%s", res.status, res.loc, res.body)
	}
	again := br.post("/password/reset", url.Values{"csrf": {csrf}, "token": {token}, "password": {"a third passphrase"}, "again": {"a third passphrase"}})
	if again.status != http.StatusBadRequest || !strings.Contains(again.body, "does not work any more") {
		t.Errorf("the link used twice: %d", again.status)
	}
	if res := br.post("/password/reset", url.Values{"token": {token}, "password": {"x"}, "again": {"x"}}); res.status != http.StatusForbidden {
		t.Errorf("reset without the CSRF token: %d", res.status)
	}
	if res := br.tryLogin("ada@example.com", "a new passphrase"); res.status != http.StatusSeeOther {
		t.Errorf("login with the new password: %d", res.status)
	}
	csrf = br.get("/password/forgot").field(t, csrfRe) // logging in ended the pre-session token
	br.post("/password/forgot", url.Values{"csrf": {csrf}, "email": {"ada@example.com"}})
	late := resetLink.FindStringSubmatch(box.all()[1].Text)
	b.clock.Add(31 * time.Minute)
	if res := br.post("/password/reset", url.Values{"csrf": {csrf}, "token": {strings.TrimPrefix(late[1], "/password/reset?token=")},
		"password": {"a late passphrase"}, "again": {"a late passphrase"}}); res.status != http.StatusBadRequest {
		t.Errorf("a 31-minute-old link: %d", res.status)
	}
}

// TestPasswordChange: on the security page, with the current password;
// this browser stays logged in, another one is logged out.
func TestPasswordChange(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	b.customer("Ada Lovelace", "ada@example.com")
	here, there := b.browser(), b.browser()
	here.login("", "ada@example.com")
	there.login("", "ada@example.com")
	p := here.get("/security")
	if !strings.Contains(p.body, "Change your password") {
		t.Fatalf("no password form on /security")
	}
	csrf := p.field(t, csrfRe)
	if res := here.post("/security/password", url.Values{"csrf": {csrf}, "current": {"wrong"}, "password": {"a new passphrase"}, "again": {"a new passphrase"}}); res.status != http.StatusBadRequest || !strings.Contains(res.body, "current password is not right") {
		t.Errorf("wrong current password: %d", res.status)
	}
	res := here.post("/security/password", url.Values{"csrf": {csrf}, "current": {password}, "password": {"a new passphrase"}, "again": {"a new passphrase"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("change: %d\n%s", res.status, res.body)
	}
	if p := here.get("/security?done=password"); p.status != http.StatusOK || !strings.Contains(p.body, "Your password is changed") {
		t.Errorf("this browser after the change: %d", p.status)
	}
	if p := there.get("/accounts"); p.status != http.StatusSeeOther {
		t.Errorf("the other browser after the change: %d, want a redirect to log in", p.status)
	}
}

// TestPasswordChangePausedInSpanish: the fifth wrong current password
// pauses changing it, and a Spanish page says so, with until when, in
// Spanish.
func TestPasswordChangePausedInSpanish(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	b.customer("Ana Ruiz", "ana@example.com")
	br := b.browser()
	br.get("/language?lang=es")
	br.login("", "ana@example.com")
	csrf := br.csrf("/security")
	// A new password too short is refused in Spanish, its rule too.
	if res := br.post("/security/password", url.Values{"csrf": {csrf}, "current": {password}, "password": {"corta"}, "again": {"corta"}}); !strings.Contains(res.body, "Elige otra contraseña: usa al menos 8 caracteres.") {
		t.Errorf("a short new password: %d\n%s", res.status, res.body)
	}
	var res page
	for range 5 {
		res = br.post("/security/password", url.Values{"csrf": {csrf}, "current": {"wrong"}, "password": {"a new passphrase"}, "again": {"a new passphrase"}})
	}
	if want := "Demasiadas contraseñas incorrectas: cambiarla está en pausa hasta las 09:31 UTC (en aproximadamente 1 minuto)."; !strings.Contains(res.body, want) {
		t.Errorf("the fifth wrong password: %d, want %q\n%s", res.status, want, res.body)
	}
}

// TestPasswordResetMailInTheCustomersLanguage: the reset e-mail is in the
// language the customer chose (wherever they chose it), whatever the
// browser asking; without a choice, in the page's language.
func TestPasswordResetMailInTheCustomersLanguage(t *testing.T) {
	t.Parallel()
	b := newBank(t, bankOptions{})
	box := &mailbox{}
	b.handler = web.New(web.Deps{Auth: b.ids, Ledger: b.ledger, Logger: slog.New(slog.DiscardHandler), Now: b.clock.Now,
		BankName: "Test Bank", Mail: box, PublicURL: "https://bank.test", Languages: b.langs})
	ana := b.customer("Ana Ruiz", "ana@example.com")
	b.customer("Ada Lovelace", "ada@example.com")
	if err := b.langs.SetLanguage(context.Background(), ana.ID, assistant.Spanish, b.clock.Now()); err != nil {
		t.Fatal(err)
	}
	ask := func(lang, email string) alerts.Message {
		t.Helper()
		br := b.browser()
		br.lang = lang
		csrf := br.get("/password/forgot").field(t, csrfRe)
		if p := br.post("/password/forgot", url.Values{"csrf": {csrf}, "email": {email}}); p.status != http.StatusOK {
			t.Fatalf("forgot: %d", p.status)
		}
		mails := box.all()
		return mails[len(mails)-1]
	}
	if m := ask("en-US", "ana@example.com"); m.Title != "Test Bank: restablece tu contraseña" || !strings.Contains(m.Text, "Abre este enlace") || resetLink.FindStringSubmatch(m.Text) == nil {
		t.Errorf("Ana chose Spanish; got %q\n%s", m.Title, m.Text)
	}
	if m := ask("en-US", "ada@example.com"); m.Title != "Test Bank: reset your password" || !strings.Contains(m.Text, "Open this link") {
		t.Errorf("Ada never chose, asked in English; got %q\n%s", m.Title, m.Text)
	}
	if m := ask("es", "ada@example.com"); m.Title != "Test Bank: restablece tu contraseña" {
		t.Errorf("Ada never chose, asked in Spanish; got %q", m.Title)
	}
}
