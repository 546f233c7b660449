package main

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

var (
	tgCSRF    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	tgNext    = regexp.MustCompile(`name="next" value="([^"]+)"`)
	tgRequest = regexp.MustCompile(`name="request" value="([^"]+)"`)
	tgAccount = regexp.MustCompile(`name="account" value="(\d+)"`)
	tgLink    = regexp.MustCompile(`href="([^"]*/channels/telegram/link\?t=[^"]+)"`)
)

// TestTelegramCodeInAnotherChatLinksNothing: Mallory sends her chat's link
// button to a victim, who logs in at the bank and approves. The bank sends
// the victim's browser to the bot's deep link with the code, so the code
// arrives as "/start <code>" from the victim's own chat, where no linking
// was started: nothing is linked, to either chat, and the victim is told.
func TestTelegramCodeInAnotherChatLinksNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("runs serve")
	}
	dir := t.TempDir()
	addr, stop := startServer(t, nil, "--data", dir, "--demo-customers", "15", "--telegram-sim")
	base := strings.Replace(addr, "://127.0.0.1:", "://localhost:", 1)
	get := func(c *http.Client, u string) (string, *http.Response) {
		t.Helper()
		res, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b), res
	}
	post := func(c *http.Client, u string, f url.Values) (string, *http.Response) {
		t.Helper()
		res, err := c.PostForm(u, f)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b), res
	}
	find := func(re *regexp.Regexp, body string) string {
		t.Helper()
		m := re.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in:\n%s", re, body)
		}
		return html.UnescapeString(m[1])
	}
	// The bank sets the webhook once it serves.
	api := base + "/sim/telegram/bot" + app.DemoTelegramToken + "/getWebhookInfo"
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if body, _ := get(http.DefaultClient, api); strings.Contains(body, "/channels/telegram/webhook") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bank did not set its Telegram webhook")
		}
	}
	newBrowser := func() *http.Client { jar, _ := cookiejar.New(nil); return &http.Client{Jar: jar} }
	mallory, victim := newBrowser(), newBrowser()
	chat := base + "/sim/telegram/chat/"
	post(mallory, chat+"mallory/say", url.Values{"text": {"link my account"}})
	page, _ := get(mallory, chat+"mallory")
	link := find(tgLink, page)

	get(victim, chat+"victim")                                  // the victim's Telegram
	post(victim, chat+"victim/say", url.Values{"text": {"hi"}}) // has talked to the bot
	login, res := get(victim, link)
	if res.Request.URL.Path != "/login" {
		t.Fatalf("the link led to %s", res.Request.URL)
	}
	consentPage, _ := post(victim, base+"/login", url.Values{"csrf": {find(tgCSRF, login)}, "email": {demo.CustomerEmail},
		"password": {demo.CustomerPassword}, "next": {find(tgNext, login)}})
	after, res := post(victim, base+"/consent", url.Values{"csrf": {find(tgCSRF, consentPage)}, "request": {find(tgRequest, consentPage)},
		"decision": {"approve"}, "account": {find(tgAccount, consentPage)}, "days": {"30"}})
	if !strings.HasPrefix(res.Request.URL.Path, "/sim/telegram/chat/victim") {
		t.Fatalf("after the consent the victim is at %s", res.Request.URL)
	}
	if !strings.Contains(after, "/start ") || !strings.Contains(after, "not started in this chat") {
		t.Errorf("the victim's chat does not show the refused link:\n%s", after)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "bankbridge.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cred, err := db.Identity().CredentialByEmail(context.Background(), identity.RealmCustomer, demo.CustomerEmail)
	if err != nil {
		t.Fatal(err)
	}
	links, err := db.Messenger().LinksByCustomer(context.Background(), bankbridge.CustomerID(cred.ID))
	if err != nil || len(links) != 0 {
		t.Errorf("the customer's chat links: %+v %v, want none", links, err)
	}
}
