package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/demo"
)

// TestSimRunsEveryPlatformForABank: `bankbridge sim` runs the Messenger,
// Telegram and WhatsApp emulators in one process and prints the settings
// of the bank; a bank started with them alone (no emulator of its own, as
// each instance of a fleet) answers chats on Telegram and WhatsApp, and
// its t.me and wa.me links, after the login and consent, lead back into
// the external emulator's chats, where the link completes.
func TestSimRunsEveryPlatformForABank(t *testing.T) {
	if testing.Short() {
		t.Skip("runs sim and serve")
	}
	bankAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	bank := "http://localhost:" + strings.Split(bankAddr, ":")[1]

	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"bankbridge", "sim", "--addr", "127.0.0.1:0", "--bank-url", bank}, func(string) string { return "" },
			strings.NewReader(""), pw, &stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("sim: %v", err)
		}
	})
	env := map[string]string{}
	setting := regexp.MustCompile(`^\s+(BANKBRIDGE_[A-Z_]+)=(\S+)$`)
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		if m := setting.FindStringSubmatch(sc.Text()); m != nil {
			env[m[1]] = m[2]
			if m[1] == "BANKBRIDGE_MESSENGER_LIVECHAT_APP_ID" {
				break
			}
		}
	}
	go io.Copy(io.Discard, pr)
	delete(env, "BANKBRIDGE_MESSENGER_LIVECHAT_APP_ID")
	for _, k := range []string{"BANKBRIDGE_MESSENGER_GRAPH_URL", "BANKBRIDGE_TELEGRAM_API_URL", "BANKBRIDGE_TELEGRAM_DEEP_LINK_URL",
		"BANKBRIDGE_WHATSAPP_GRAPH_URL", "BANKBRIDGE_WHATSAPP_CLICK_TO_CHAT_URL", "BANKBRIDGE_WHATSAPP_PHONE_NUMBER_ID"} {
		if env[k] == "" {
			t.Fatalf("sim printed no %s: %v\n%s", k, env, stderr.String())
		}
	}
	simBase := strings.TrimSuffix(env["BANKBRIDGE_TELEGRAM_API_URL"], "/telegram")

	_, stop := startServer(t, env, "--addr", bankAddr, "--public-url", bank, "--data", t.TempDir(), "--demo-customers", "15")
	defer stop()

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
	// link logs in at the bank from a chat's link button and approves; it
	// returns the page the browser ends on and its URL.
	link := func(c *http.Client, button string) (string, *url.URL) {
		t.Helper()
		login, res := get(c, button)
		if res.Request.URL.Path != "/login" {
			t.Fatalf("the link led to %s", res.Request.URL)
		}
		consentPage, _ := post(c, bank+"/login", url.Values{"csrf": {find(tgCSRF, login)}, "email": {demo.CustomerEmail},
			"password": {demo.CustomerPassword}, "next": {find(tgNext, login)}})
		after, res := post(c, bank+"/consent", url.Values{"csrf": {find(tgCSRF, consentPage)}, "request": {find(tgRequest, consentPage)},
			"decision": {"approve"}, "account": {find(tgAccount, consentPage)}, "days": {"30"}})
		return after, res.Request.URL
	}
	newBrowser := func() *http.Client { jar, _ := cookiejar.New(nil); return &http.Client{Jar: jar} }

	// Telegram: the bank set its webhook at the external emulator.
	api := env["BANKBRIDGE_TELEGRAM_API_URL"] + "/bot" + env["BANKBRIDGE_TELEGRAM_BOT_TOKEN"] + "/getWebhookInfo"
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if body, _ := get(http.DefaultClient, api); strings.Contains(body, bank+"/channels/telegram/webhook") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the bank did not set its Telegram webhook at the emulator")
		}
	}
	ann := newBrowser()
	chat := simBase + "/telegram/chat/ann"
	get(ann, chat)
	page, _ := post(ann, chat+"/say", url.Values{"text": {"link my account"}})
	after, at := link(ann, find(tgLink, page))
	if at.Host != strings.TrimPrefix(simBase, "http://") || !strings.HasPrefix(at.Path, "/telegram/chat/ann") {
		t.Fatalf("after the consent the Telegram user is at %s, want the emulator's chat", at)
	}
	if !strings.Contains(after, "/start ") || !strings.Contains(strings.ToLower(after), "linked") {
		t.Errorf("the Telegram chat does not show the link:\n%s", after)
	}

	// WhatsApp: messages reach the bank through the emulator, and wa.me
	// leads back into it with the code in the message box.
	bob := newBrowser()
	wchat := simBase + "/whatsapp/chat/bob"
	get(bob, wchat)
	page, _ = post(bob, wchat+"/say", url.Values{"text": {"hi"}})
	if !strings.Contains(page, "automated assistant") {
		t.Fatalf("no answer on WhatsApp:\n%s", page)
	}
	after, at = link(bob, find(regexp.MustCompile(`href="([^"]*/channels/whatsapp/link\?t=[^"]+)"`), page))
	if at.Host != strings.TrimPrefix(simBase, "http://") || !strings.HasPrefix(at.Path, "/whatsapp/chat/bob") || !strings.Contains(after, "Link my bank account, code ") {
		t.Fatalf("after the consent the WhatsApp user is at %s, want the emulator's chat with the code drafted:\n%s", at, after)
	}
}
