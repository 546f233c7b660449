package platformsim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/platformsim"
)

type tgAnswer struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// tgBed is a TelegramSim on loopback with a webhook receiver, on a clock
// the test moves.
type tgBed struct {
	sim  *platformsim.TelegramSim
	url  string
	mu   sync.Mutex
	now  time.Time
	hook struct {
		sync.Mutex
		secrets []string
		bodies  []map[string]any
	}
	hookURL string
}

func newTGBed(t *testing.T) *tgBed {
	t.Helper()
	b := &tgBed{now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b.url = srv.URL + "/sim/telegram"
	b.sim = platformsim.NewTelegram(platformsim.TelegramOptions{Prefix: "/sim/telegram", BaseURL: b.url, BotToken: "123:ABC",
		BotUsername: "bank_bot", Now: func() time.Time { b.mu.Lock(); defer b.mu.Unlock(); return b.now }})
	mux.Handle("/sim/telegram/", b.sim.Handler())
	mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		json.NewDecoder(r.Body).Decode(&m)
		b.hook.Lock()
		b.hook.secrets = append(b.hook.secrets, r.Header.Get("X-Telegram-Bot-Api-Secret-Token"))
		b.hook.bodies = append(b.hook.bodies, m)
		b.hook.Unlock()
	})
	b.hookURL = srv.URL + "/hook"
	return b
}

func (b *tgBed) advance(d time.Duration) { b.mu.Lock(); b.now = b.now.Add(d); b.mu.Unlock() }

func (b *tgBed) call(t *testing.T, token, method string, body any) (int, tgAnswer) {
	t.Helper()
	raw, _ := json.Marshal(body)
	res, err := http.Post(b.url+"/bot"+token+"/"+method, "application/json", strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a tgAnswer
	json.NewDecoder(res.Body).Decode(&a)
	return res.StatusCode, a
}

func TestTelegramSimRefusesWhatTheBotAPIRefuses(t *testing.T) {
	t.Parallel()
	b := newTGBed(t)
	if c, a := b.call(t, "123:WRONG", "getMe", nil); c != 401 || a.Description != "Unauthorized" {
		t.Errorf("wrong token: %d %+v", c, a)
	}
	if c, _ := b.call(t, "123:ABC", "sendTelepathy", map[string]any{}); c != 404 {
		t.Errorf("unknown method: %d", c)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"NotHTTPS", map[string]any{"url": "http://bank.example/hook"}, "HTTPS URL must be provided"},
		{"BadPort", map[string]any{"url": "https://bank.example:8080/hook"}, "ports 80, 88, 443 or 8443"},
		{"BadSecret", map[string]any{"url": "https://bank.example/hook", "secret_token": "not allowed!"}, "secret token"},
	} {
		if c, a := b.call(t, "123:ABC", "setWebhook", tc.body); c != 400 || !strings.Contains(a.Description, tc.want) {
			t.Errorf("setWebhook %s: %d %+v", tc.name, c, a)
		}
	}
	if c, a := b.call(t, "123:ABC", "setWebhook", map[string]any{"url": b.hookURL, "secret_token": "s3cret_-"}); c != 200 || !a.OK {
		t.Fatalf("setWebhook on loopback: %d %+v", c, a)
	}
	if err := b.sim.Say(context.Background(), "ann", "hi"); err != nil {
		t.Fatal(err)
	}
	b.hook.Lock()
	if len(b.hook.secrets) != 1 || b.hook.secrets[0] != "s3cret_-" {
		t.Errorf("webhook secret headers %q", b.hook.secrets)
	}
	b.hook.Unlock()
	chat := b.sim.Chat("ann").ID
	long := strings.Repeat("x", 4097)
	for _, tc := range []struct {
		name string
		body map[string]any
		code int
		want string
	}{
		{"UnknownChat", map[string]any{"chat_id": 42, "text": "hi"}, 400, "chat not found"},
		{"NotStarted", map[string]any{"chat_id": b.sim.Chat("bob").ID, "text": "hi"}, 403, "can't initiate conversation"},
		{"EmptyText", map[string]any{"chat_id": chat, "text": " "}, 400, "message text is empty"},
		{"TooLong", map[string]any{"chat_id": chat, "text": long}, 400, "message is too long"},
		{"LongCallbackData", map[string]any{"chat_id": chat, "text": "hi", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "x", "callback_data": strings.Repeat("d", 65)}}}}}, 400, "BUTTON_DATA_INVALID"},
		{"BadURL", map[string]any{"chat_id": chat, "text": "hi", "reply_markup": map[string]any{"inline_keyboard": [][]map[string]string{{{"text": "x", "url": "javascript:alert(1)"}}}}}, 400, "BUTTON_URL_INVALID"},
	} {
		if c, a := b.call(t, "123:ABC", "sendMessage", tc.body); c != tc.code || !strings.Contains(a.Description, tc.want) {
			t.Errorf("sendMessage %s: %d %+v, want %d %q", tc.name, c, a, tc.code, tc.want)
		}
	}
	if c, a := b.call(t, "123:ABC", "answerCallbackQuery", map[string]any{"callback_query_id": "nope"}); c != 400 || !strings.Contains(a.Description, "query ID is invalid") {
		t.Errorf("unknown callback query: %d %+v", c, a)
	}
}

// Flood control: a burst of three in a chat passes, the fourth in the same
// second gets 429 with retry_after; a call before that time is counted as
// early and refused again; after it, the message goes.
func TestTelegramSimFloodControl(t *testing.T) {
	t.Parallel()
	b := newTGBed(t)
	b.call(t, "123:ABC", "setWebhook", map[string]any{"url": b.hookURL})
	b.sim.Say(context.Background(), "ann", "hi")
	chat := b.sim.Chat("ann").ID
	msg := map[string]any{"chat_id": chat, "text": "hello"}
	for i := range 3 {
		if c, a := b.call(t, "123:ABC", "sendMessage", msg); c != 200 {
			t.Fatalf("message %d of a burst: %d %+v", i+1, c, a)
		}
	}
	c, a := b.call(t, "123:ABC", "sendMessage", msg)
	if c != 429 || a.Parameters.RetryAfter != 1 {
		t.Fatalf("fourth in a second: %d %+v, want 429 retry_after 1", c, a)
	}
	b.advance(500 * time.Millisecond)
	if c, _ := b.call(t, "123:ABC", "sendMessage", msg); c != 429 {
		t.Errorf("half-way through retry_after: %d, want 429", c)
	}
	if limited, early := b.sim.Stats(); limited != 2 || early != 1 {
		t.Errorf("stats: %d limited, %d early; want 2, 1", limited, early)
	}
	b.advance(500 * time.Millisecond)
	if c, a := b.call(t, "123:ABC", "sendMessage", msg); c != 200 {
		t.Errorf("after retry_after: %d %+v", c, a)
	}
}

// A t.me deep link with a start parameter opens the browser's person's
// chat and sends "/start <payload>" to the webhook.
func TestTelegramSimDeepLink(t *testing.T) {
	t.Parallel()
	b := newTGBed(t)
	b.call(t, "123:ABC", "setWebhook", map[string]any{"url": b.hookURL, "secret_token": "s"})
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	get := func(u string) int {
		res, err := cl.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	if c := get(b.sim.DeepLinkURL() + "/bank_bot?start=abc"); c != 400 {
		t.Errorf("deep link before any chat page: %d, want 400 (who is this?)", c)
	}
	get(b.sim.ChatURL("ann"))
	if c := get(b.sim.DeepLinkURL() + "/bank_bot?start=bad*payload"); c != 400 {
		t.Errorf("bad payload: %d", c)
	}
	if c := get(b.sim.DeepLinkURL() + "/bank_bot?start=Code_-123"); c != 200 {
		t.Errorf("deep link: %d", c)
	}
	b.hook.Lock()
	defer b.hook.Unlock()
	if len(b.hook.bodies) != 1 {
		t.Fatalf("%d updates, want 1", len(b.hook.bodies))
	}
	m := b.hook.bodies[0]["message"].(map[string]any)
	if m["text"] != "/start Code_-123" || m["chat"].(map[string]any)["id"].(float64) != float64(b.sim.Chat("ann").ID) {
		t.Errorf("update %v", m)
	}
}
