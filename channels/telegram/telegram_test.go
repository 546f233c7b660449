package telegram_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/telegram"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// botAPI is a fake Bot API recording sendMessage bodies.
type botAPI struct {
	mu    sync.Mutex
	sent  []telegram.SendMessage
	calls map[string]int
	fail  int // answer 429 this many times
	retry int // with this retry_after
	slept []time.Duration
}

// sleep is the adapter's Sleep: it records the wait instead of waiting.
func (b *botAPI) sleep(ctx context.Context, d time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d > 0 {
		b.slept = append(b.slept, d)
	}
	return ctx.Err()
}

func (b *botAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !strings.HasPrefix(r.URL.Path, "/botTOKEN/") {
		http.Error(w, `{"ok":false,"description":"Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/botTOKEN/")
	b.calls[method]++
	if method == "getMe" {
		io.WriteString(w, `{"ok":true,"result":{"id":1,"is_bot":true,"username":"bank_bot"}}`)
		return
	}
	if b.fail > 0 {
		b.fail--
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprintf(w, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, b.retry, b.retry)
		return
	}
	if method == "sendMessage" {
		var m telegram.SendMessage
		json.NewDecoder(r.Body).Decode(&m)
		b.sent = append(b.sent, m)
	}
	io.WriteString(w, `{"ok":true,"result":{}}`)
}

func setup(t *testing.T) (http.Handler, *botAPI) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The updates below are dated 14 November 2023, a few seconds before this.
	return setupOn(t, db.Messenger(), func() time.Time { return time.Unix(1700000010, 0) })
}

func setupOn(t *testing.T, st assistant.Store, now func() time.Time) (http.Handler, *botAPI) {
	t.Helper()
	api := &botAPI{calls: map[string]int{}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	// No links on Telegram: the assistant never reaches the ledger or consents.
	a := assistant.New(assistant.Deps{Store: st, BankURL: "https://bank.example", Now: now})
	hub := channels.NewHub(channels.HubDeps{Assistant: a, Store: st, Now: now})
	ad, err := telegram.New(telegram.Config{BotToken: "TOKEN", SecretToken: "s3cret", APIURL: srv.URL, BankURL: "https://bank.example",
		BotUsername: "bank_bot", Backoff: 1, Now: now, Sleep: api.sleep}, hub)
	if err != nil {
		t.Fatal(err)
	}
	hub.Add(ad, nil)
	return ad.Handler(), api
}

func post(h http.Handler, body, secret string) int {
	r := httptest.NewRequest("POST", telegram.PathWebhook, strings.NewReader(body))
	if secret != "" {
		r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func TestTelegram(t *testing.T) {
	t.Parallel()
	h, api := setup(t)
	hi := `{"update_id":10,"message":{"message_id":1,"from":{"id":7},"chat":{"id":7,"type":"private"},"date":1700000000,"text":"hi"}}`
	for _, secret := range []string{"", "wrong", "s3cre"} {
		if c := post(h, hi, secret); c != http.StatusUnauthorized {
			t.Errorf("secret %q: %d, want 401", secret, c)
		}
	}
	if c := post(h, "{not json", "s3cret"); c != http.StatusBadRequest {
		t.Errorf("bad body: %d", c)
	}
	api.fail = 2  // two 429s, then accepted
	for range 3 { // delivered three times, handled once
		if c := post(h, hi, "s3cret"); c != http.StatusOK {
			t.Fatalf("update: %d", c)
		}
	}
	if len(api.sent) != 1 {
		t.Fatalf("%d messages sent for one update, want 1", len(api.sent))
	}
	m := api.sent[0]
	if m.ChatID != 7 || !strings.Contains(m.Text, assistant.Automated) {
		t.Errorf("reply %+v", m)
	}
	var link, help bool
	for _, row := range m.ReplyMarkup.InlineKeyboard {
		for _, b := range row {
			link = link || strings.HasPrefix(b.URL, "https://bank.example"+telegram.PathLink+"?t=")
			help = help || b.CallbackData == "INTENT:help"
		}
	}
	if !link || !help {
		t.Errorf("inline keyboard %+v: want a link button to the bank and a help choice", m.ReplyMarkup)
	}
	// A tap on the inline keyboard comes back as a callback query.
	cb := `{"update_id":11,"callback_query":{"id":"q1","from":{"id":7},"data":"INTENT:help","message":{"message_id":2,"chat":{"id":7,"type":"private"},"date":1700000001}}}`
	if c := post(h, cb, "s3cret"); c != http.StatusOK {
		t.Fatalf("callback: %d", c)
	}
	if api.calls["answerCallbackQuery"] != 1 || len(api.sent) != 2 || !strings.Contains(api.sent[1].Text, "I can show") {
		t.Errorf("callback handling: calls %v, sent %+v", api.calls, api.sent)
	}
	// Data questions are refused without a link.
	bal := `{"update_id":12,"message":{"message_id":3,"from":{"id":7},"chat":{"id":7,"type":"private"},"date":1700000002,"text":"balance"}}`
	post(h, bal, "s3cret")
	if last := api.sent[len(api.sent)-1].Text; strings.Contains(last, "USD") || !strings.Contains(last, "linked") {
		t.Errorf("balance on an unlinked chat: %q", last)
	}
}
