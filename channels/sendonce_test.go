package channels_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/internal/teststore"
)

// TestSendOnceSurvivesAKilledSender: an instance that claimed an alert's
// send and died before sending (kill -9) must not make the alert count as
// sent. Another instance's retry is told to wait while the claim is young,
// and sends once it is stale; after that the alert is never sent again.
// Two hubs on one database stand for two instances of a fleet.
func TestSendOnceSurvivesAKilledSender(t *testing.T) {
	t.Parallel()
	for _, engine := range testdb.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := teststore.Chat(t, engine)
			now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
			var at atomic.Int64
			at.Store(now.UnixNano())
			clock := func() time.Time { return time.Unix(0, at.Load()).UTC() }
			dead := channels.NewHub(channels.HubDeps{Store: st, Now: clock})
			live := channels.NewHub(channels.HubDeps{Store: st, Now: clock})
			var sends atomic.Int32
			send := func(context.Context) error { sends.Add(1); return nil }

			// The first instance claims, then dies inside the send: the
			// platform never got the message.
			died := errors.New("killed")
			func() {
				defer func() { _ = recover() }()
				_ = dead.SendOnce(ctx, "messenger", "alert:7:psid", func(context.Context) error { panic(died) })
			}()

			// The retry, within the claim's lease: try later, not sent.
			at.Add(int64(5 * time.Second))
			err := live.SendOnce(ctx, "messenger", "alert:7:psid", send)
			if bankbridge.ErrorKind(err) != bankbridge.Unavailable || sends.Load() != 0 {
				t.Fatalf("a retry while the claim is young: %v after %d sends; want Unavailable and no send", err, sends.Load())
			}
			// Past the lease: the retry takes the claim over and sends.
			at.Add(int64(time.Minute))
			if err := live.SendOnce(ctx, "messenger", "alert:7:psid", send); err != nil || sends.Load() != 1 {
				t.Fatalf("a retry after the lease: %v after %d sends; want nil and one send", err, sends.Load())
			}
			// Sent: every later duplicate is dropped, on either instance.
			for _, h := range []*channels.Hub{live, dead} {
				if err := h.SendOnce(ctx, "messenger", "alert:7:psid", send); err != nil || sends.Load() != 1 {
					t.Fatalf("a duplicate after the send: %v after %d sends; want nil and still one", err, sends.Load())
				}
			}
			// A failed send is retried at once, not held for the lease.
			fail := errors.New("platform down")
			if err := live.SendOnce(ctx, "messenger", "alert:8:psid", func(context.Context) error { return fail }); !errors.Is(err, fail) {
				t.Fatalf("a failed send: %v", err)
			}
			if err := dead.SendOnce(ctx, "messenger", "alert:8:psid", send); err != nil || sends.Load() != 2 {
				t.Fatalf("the retry of a failed send: %v after %d sends; want nil and two", err, sends.Load())
			}
		})
	}
}
