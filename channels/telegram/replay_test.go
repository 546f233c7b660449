package telegram_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/telegram"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/internal/teststore"
)

// TestTelegramRefusesAgedUpdates: a message older than Telegram's
// redelivery window is answered 200 and dropped, whatever its update id,
// and is not even recorded; one inside the window is handled once; and once
// the dedupe row is gone (aged out after channels.EventKeep), a replay of
// the handled update is dropped by its date.
func TestTelegramRefusesAgedUpdates(t *testing.T) {
	t.Parallel()
	if telegram.RedeliveryWindow > channels.EventKeep {
		t.Fatalf("ids are kept %v, less than the %v window", channels.EventKeep, telegram.RedeliveryWindow)
	}
	for _, engine := range testdb.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			st := teststore.Chat(t, engine)
			now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			h, api := setupOn(t, st, clock)
			update := func(id int64, date time.Time) string {
				return fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"from":{"id":7},"chat":{"id":7,"type":"private"},"date":%d,"text":"hi"}}`, id, id, date.Unix())
			}
			ctx := context.Background()
			for _, tc := range []struct {
				name string
				id   int64
				date time.Time
			}{
				{"ThirtyDaysOld", 20, now.Add(-30 * 24 * time.Hour)},
				{"JustPastTheWindow", 21, now.Add(-telegram.RedeliveryWindow - time.Second)},
				{"DatedAhead", 22, now.Add(channels.MaxClockSkew + time.Minute)},
			} {
				if c := post(h, update(tc.id, tc.date), "s3cret"); c != http.StatusOK {
					t.Errorf("%s: %d, want 200", tc.name, c)
				}
				first, err := st.FirstDelivery(ctx, telegram.Platform, fmt.Sprintf("update:%d", tc.id), now, channels.EventKeep)
				if err != nil || !first {
					t.Errorf("%s: the update was recorded (first=%v, %v); it should be dropped before", tc.name, first, err)
				}
			}
			if len(api.sent) != 0 {
				t.Fatalf("%d replies to aged updates, want none", len(api.sent))
			}
			fresh := update(30, now.Add(-time.Hour))
			post(h, fresh, "s3cret")
			if len(api.sent) != 1 {
				t.Fatalf("%d replies to a fresh update, want 1", len(api.sent))
			}
			// Eight days on, the dedupe row has aged out; the replay is
			// refused by its date alone.
			now = now.Add(8 * 24 * time.Hour)
			if err := st.ForgetDelivery(ctx, telegram.Platform, "update:30"); err != nil {
				t.Fatal(err)
			}
			post(h, fresh, "s3cret")
			if len(api.sent) != 1 {
				t.Errorf("a replay after the dedupe row aged out was answered: %d replies", len(api.sent))
			}
		})
	}
}
