package telegram_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/telegram"
)

// sender returns an adapter over a fake Bot API whose clock stands still,
// so that every wait the pacing asks for is recorded, not spent.
func sender(t *testing.T) (*telegram.Adapter, *botAPI) {
	t.Helper()
	api := &botAPI{calls: map[string]int{}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	now := func() time.Time { return time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC) }
	ad, err := telegram.New(telegram.Config{BotToken: "TOKEN", SecretToken: "s3cret", APIURL: srv.URL, BankURL: "https://bank.example",
		BotUsername: "bank_bot", Now: now, Sleep: api.sleep}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ad, api
}

func send(ad *telegram.Adapter, chat string) error {
	return ad.Send(context.Background(), channels.Outbound{To: chat, Reply: assistant.Reply{Text: "hello"}, Purpose: channels.Response})
}

func TestPacing(t *testing.T) {
	t.Parallel()
	t.Run("OneMessageASecondPerChat", func(t *testing.T) {
		t.Parallel()
		ad, api := sender(t)
		for range 3 {
			if err := send(ad, "7"); err != nil {
				t.Fatal(err)
			}
		}
		// At one instant: the first goes at once, then one a second.
		if d := cmp.Diff([]time.Duration{time.Second, 2 * time.Second}, api.slept); d != "" {
			t.Errorf("waits (-want +got):\n%s", d)
		}
	})
	t.Run("ThirtyMessagesASecondForTheBot", func(t *testing.T) {
		t.Parallel()
		ad, api := sender(t)
		for i := range 31 {
			if err := send(ad, string(rune('1'+i%9))+string(rune('0'+i/9))); err != nil {
				t.Fatal(err)
			}
		}
		// 31 chats at one instant: 30 go, the 31st waits its 1/30 s.
		if d := cmp.Diff([]time.Duration{time.Second / 30}, api.slept); d != "" {
			t.Errorf("waits (-want +got):\n%s", d)
		}
	})
	t.Run("RefusesATurnPastMaxWait", func(t *testing.T) {
		t.Parallel()
		ad, api := sender(t)
		var err error
		for i := 0; i < 12 && err == nil; i++ {
			err = send(ad, "7")
		}
		if !errors.Is(err, telegram.ErrThrottled) {
			t.Fatalf("the 12th message in a second to one chat: %v, want ErrThrottled (its turn is 11 s away)", err)
		}
		if api.calls["sendMessage"] != 11 {
			t.Errorf("%d sent, want 11", api.calls["sendMessage"])
		}
	})
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	t.Run("WaitsExactlyRetryAfter", func(t *testing.T) {
		t.Parallel()
		ad, api := sender(t)
		api.fail, api.retry = 1, 7
		if err := send(ad, "7"); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]time.Duration{7 * time.Second}, api.slept); d != "" {
			t.Errorf("waits (-want +got):\n%s", d)
		}
		if api.calls["sendMessage"] != 2 {
			t.Errorf("%d calls, want 2", api.calls["sendMessage"])
		}
	})
	t.Run("NeverRetriesEarly", func(t *testing.T) {
		t.Parallel()
		ad, api := sender(t)
		api.fail, api.retry = 1, 45 // past MaxWait (10 s)
		if err := send(ad, "7"); !errors.Is(err, telegram.ErrThrottled) {
			t.Fatalf("429 with retry_after 45: %v, want ErrThrottled", err)
		}
		// A caller's retry (the alerts worker's) inside the 45 s is refused
		// here, without asking the platform again.
		if err := send(ad, "7"); !errors.Is(err, telegram.ErrThrottled) {
			t.Fatalf("a retry inside retry_after: %v, want ErrThrottled", err)
		}
		if api.calls["sendMessage"] != 1 || len(api.slept) != 0 {
			t.Errorf("calls %v, waits %v: want one call and no wait", api.calls, api.slept)
		}
		// Another chat is not paused.
		if err := send(ad, "8"); err != nil {
			t.Errorf("another chat: %v", err)
		}
	})
}

func TestStartSetsTheWebhook(t *testing.T) {
	t.Parallel()
	api := &botAPI{calls: map[string]int{}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	ad, err := telegram.New(telegram.Config{BotToken: "TOKEN", SecretToken: "s3cret", APIURL: srv.URL, BankURL: "https://bank.example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ad.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if api.calls["getMe"] != 1 || api.calls["setWebhook"] != 1 {
		t.Errorf("calls %v, want getMe and setWebhook once", api.calls)
	}
	for _, bad := range []string{"", "has space", string(make([]byte, 257))} {
		if _, err := telegram.New(telegram.Config{BotToken: "TOKEN", SecretToken: bad, BankURL: "https://bank.example"}, nil); err == nil {
			t.Errorf("secret token %q accepted", bad)
		}
	}
}
