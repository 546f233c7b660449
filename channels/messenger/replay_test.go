package messenger_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/messenger"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/internal/teststore"
)

// TestWebhookRefusesAgedEvents: a correctly signed event older than Meta's
// redelivery window is answered EVENT_RECEIVED and dropped, whatever its
// id, and not even recorded; one inside the window is handled once; and a
// captured event replayed after its dedupe row aged out (issue 23: shown
// by ageing the row on PostgreSQL) is dropped by its timestamp.
func TestWebhookRefusesAgedEvents(t *testing.T) {
	t.Parallel()
	if messenger.RedeliveryWindow > channels.EventKeep {
		t.Fatalf("ids are kept %v, less than the %v window", channels.EventKeep, messenger.RedeliveryWindow)
	}
	for _, engine := range testdb.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			st := teststore.Chat(t, engine)
			now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			g := &graph{}
			srv := httptest.NewServer(g)
			t.Cleanup(srv.Close)
			a := assistant.New(assistant.Deps{Store: st, BankURL: "https://bank.example", Now: clock})
			hub := channels.NewHub(channels.HubDeps{Assistant: a, Store: st, Now: clock})
			ad, err := messenger.New(messenger.Config{AppSecret: "s", VerifyToken: "v", PageToken: "p", GraphURL: srv.URL,
				BankURL: "https://bank.example", Backoff: time.Microsecond, Now: clock}, hub)
			if err != nil {
				t.Fatal(err)
			}
			hub.Add(ad, nil)
			h := ad.Handler()
			post := func(mid string, at time.Time) {
				t.Helper()
				body := fmt.Sprintf(`{"object":"page","entry":[{"id":"page","time":%d,"messaging":[{"sender":{"id":"psid-9"},"recipient":{"id":"page"},"timestamp":%d,"message":{"mid":%q,"text":"hi"}}]}]}`,
					at.UnixMilli(), at.UnixMilli(), mid)
				r := httptest.NewRequest("POST", messenger.PathWebhook, strings.NewReader(body))
				r.Header.Set("X-Hub-Signature-256", messenger.Signature("s", []byte(body)))
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if b, _ := io.ReadAll(w.Result().Body); w.Code != http.StatusOK || string(b) != "EVENT_RECEIVED" {
					t.Fatalf("event %s: %d %s", mid, w.Code, b)
				}
			}
			sent := func() int { g.mu.Lock(); defer g.mu.Unlock(); return len(g.bodies) }
			ctx := context.Background()
			for _, tc := range []struct {
				mid string
				at  time.Time
			}{
				{"m_30_days_old", now.Add(-30 * 24 * time.Hour)},
				{"m_just_past_window", now.Add(-messenger.RedeliveryWindow - time.Second)},
				{"m_dated_ahead", now.Add(channels.MaxClockSkew + time.Minute)},
				{"m_no_timestamp", time.UnixMilli(0)},
			} {
				post(tc.mid, tc.at)
				if first, err := st.FirstDelivery(ctx, messenger.Platform, "mid:"+tc.mid, now, channels.EventKeep); err != nil || !first {
					t.Errorf("%s was recorded (first=%v, %v); it should be dropped before", tc.mid, first, err)
				}
			}
			if n := sent(); n != 0 {
				t.Fatalf("%d replies to aged events, want none", n)
			}
			post("m_fresh", now.Add(-time.Hour))
			post("m_fresh", now.Add(-time.Hour)) // a redelivery: dropped by its id
			if n := sent(); n != 1 {
				t.Fatalf("%d replies to one fresh event delivered twice, want 1", n)
			}
			// Eight days on, the dedupe row has aged out (EventKeep); the
			// captured event, replayed, is refused by its timestamp.
			now = now.Add(8 * 24 * time.Hour)
			if err := st.ForgetDelivery(ctx, messenger.Platform, "mid:m_fresh"); err != nil {
				t.Fatal(err)
			}
			post("m_fresh", now.Add(-8*24*time.Hour-time.Hour))
			if n := sent(); n != 1 {
				t.Errorf("a replay after the dedupe row aged out was answered: %d replies", n)
			}
		})
	}
}
