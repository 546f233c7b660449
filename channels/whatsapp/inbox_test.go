package whatsapp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/inbox"
	"github.com/bankbridge/bankbridge/channels/whatsapp"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/platformsim"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/sqlstore"
)

// counted is the inbox, telling the test of every event done.
type counted struct {
	*sqlstore.MessengerStore
	done chan int64
}

func (c counted) Done(ctx context.Context, id int64, at time.Time, failure string) error {
	err := c.MessengerStore.Done(ctx, id, at, failure)
	c.done <- id
	return err
}

var _ inbox.Store = counted{}

// instance is one bank process's WhatsApp side: its own connection to the
// shared database, hub and adapter.
type instance struct {
	st    counted
	hub   *channels.Hub
	ad    *whatsapp.Adapter
	close func()
}

func start(t *testing.T, engine, where string, sim *platformsim.WhatsAppSim, now func() time.Time) *instance {
	t.Helper()
	ctx := context.Background()
	in := &instance{}
	var st *sqlstore.MessengerStore
	if engine == "postgres" {
		db, err := postgres.Open(ctx, where)
		if err != nil {
			t.Fatal(err)
		}
		st, in.close = db.Messenger(), func() { db.Close() }
	} else {
		db, err := sqlite.Open(ctx, where)
		if err != nil {
			t.Fatal(err)
		}
		st, in.close = db.Messenger(), func() { db.Close() }
	}
	in.st = counted{st, make(chan int64, 100)}
	a := assistant.New(assistant.Deps{Store: st, BankURL: "https://bank.example", Now: now})
	in.hub = channels.NewHub(channels.HubDeps{Assistant: a, Store: st, Inbox: in.st, Now: now})
	ad, err := whatsapp.New(whatsapp.Config{AccessToken: "TOKEN", AppSecret: "app-secret", VerifyToken: "verify-me",
		PhoneNumberID: sim.PhoneNumberID(), DisplayPhone: sim.DisplayPhone(), GraphURL: sim.GraphURL(), BankURL: "https://bank.example",
		Backoff: time.Millisecond, Now: now}, in.hub)
	if err != nil {
		t.Fatal(err)
	}
	in.ad = ad
	in.hub.Add(ad, nil)
	return in
}

// TestWhatsAppInboxSurvivesARestart: over HTTP, through the emulator, on
// each engine. The webhook answers 200 once a message is stored, before
// any reply; a redelivered notification (the same wamid) is stored once.
// The process then dies without having replied, one message claimed by a
// worker that died with it; a new process on the same database answers
// every stored message, in order per person, once the dead worker's lease
// runs out.
func TestWhatsAppInboxSurvivesARestart(t *testing.T) {
	t.Parallel()
	for _, engine := range testdb.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			where := testdb.SQLitePath(t)
			if engine == "postgres" {
				where = testdb.PostgresURL(t)
			}
			var bank atomic.Pointer[http.Handler]
			mux := http.NewServeMux()
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			sim := platformsim.NewWhatsApp(platformsim.WhatsAppOptions{Prefix: "/sim/whatsapp", BaseURL: srv.URL + "/sim/whatsapp",
				WebhookURL: srv.URL + whatsapp.PathWebhook, AccessToken: "TOKEN", AppSecret: "app-secret", VerifyToken: "verify-me"})
			mux.Handle("/sim/whatsapp/", sim.Handler())
			mux.Handle("/channels/whatsapp/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*bank.Load()).ServeHTTP(w, r) }))

			first := start(t, engine, where, sim, time.Now)
			h := first.ad.Handler()
			bank.Store(&h)
			for _, m := range []struct{ who, text string }{{"ann", "hi"}, {"bob", "hi"}, {"ann", "help"}} {
				if err := sim.Say(ctx, m.who, m.text); err != nil {
					t.Fatalf("%s says %q: %v", m.who, m.text, err)
				}
			}
			// Bob's "help" comes in a notification delivered twice, as Meta
			// does when it thinks the first was not received: one wamid,
			// stored once.
			dup, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{"id": "1",
				"changes": []any{map[string]any{"field": "messages", "value": map[string]any{"messaging_product": "whatsapp",
					"metadata": map[string]string{"display_phone_number": sim.DisplayPhone(), "phone_number_id": sim.PhoneNumberID()},
					"messages": []any{map[string]any{"from": sim.Chat("bob").WaID, "id": "wamid.REDELIVERED1", "timestamp": strconv.FormatInt(time.Now().Unix(), 10),
						"type": "text", "text": map[string]string{"body": "help"}}}}}}}}})
			for range 2 {
				if err := sim.Notify(ctx, dup); err != nil {
					t.Fatal(err)
				}
			}
			for _, name := range []string{"ann", "bob"} {
				if n := len(bankLines(sim.Chat(name))); n != 0 {
					t.Fatalf("%d replies to %s before any worker ran", n, name)
				}
			}
			if evs, err := first.st.Claim(ctx, "dead-worker", time.Now(), channels.InboxLease, 1); err != nil || len(evs) != 1 {
				t.Fatalf("claim: %v %v", evs, err)
			}
			first.close()

			later := func() time.Time { return time.Now().Add(channels.InboxLease + time.Second) }
			second := start(t, engine, where, sim, later)
			t.Cleanup(second.close)
			h2 := second.ad.Handler()
			bank.Store(&h2)
			wctx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); second.hub.RunInbox(wctx) }()
			deadline := time.After(30 * time.Second)
			for n := 0; n < 4; n++ { // ann's two, bob's two
				select {
				case <-second.st.done:
				case <-deadline:
					t.Fatalf("%d of 4 stored messages processed after the restart", n)
				}
			}
			stop()
			<-done
			if left, err := second.st.Claim(ctx, "probe", later().Add(channels.InboxLease), channels.InboxLease, 10); err != nil || len(left) != 0 {
				t.Errorf("events left in the inbox: %+v %v", left, err)
			}
			ann, bob := bankLines(sim.Chat("ann")), bankLines(sim.Chat("bob"))
			if len(ann) == 0 || len(ann) != len(bob) {
				t.Errorf("ann (hi, help) has %d replies, bob (hi, help redelivered) %d: want the same, more than none", len(ann), len(bob))
			}
			for name, lines := range map[string][]platformsim.WhatsAppLine{"ann": ann, "bob": bob} {
				if len(lines) > 0 && !strings.Contains(lines[0].Text, assistant.Automated) {
					t.Errorf("%s's first reply is %q, want the greeting first", name, lines[0].Text)
				}
			}
		})
	}
}
