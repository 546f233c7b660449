package telegram_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/telegram"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/platformsim"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/sqlstore"
)

// instance is one bank process's Telegram side: its own connection to the
// shared database, hub and adapter.
type instance struct {
	st    *sqlstore.MessengerStore
	hub   *channels.Hub
	ad    *telegram.Adapter
	close func()
}

// start opens the database at where (engine's) as a new process would,
// with the durable inbox, on the clock now.
func start(t *testing.T, engine, where, api string, base string, now func() time.Time) *instance {
	t.Helper()
	ctx := context.Background()
	in := &instance{}
	if engine == "postgres" {
		db, err := postgres.Open(ctx, where)
		if err != nil {
			t.Fatal(err)
		}
		in.st, in.close = db.Messenger(), func() { db.Close() }
	} else {
		db, err := sqlite.Open(ctx, where)
		if err != nil {
			t.Fatal(err)
		}
		in.st, in.close = db.Messenger(), func() { db.Close() }
	}
	a := assistant.New(assistant.Deps{Store: in.st, BankURL: base, Now: now})
	in.hub = channels.NewHub(channels.HubDeps{Assistant: a, Store: in.st, Inbox: in.st, Now: now})
	ad, err := telegram.New(telegram.Config{BotToken: "123:ABC", SecretToken: "s3cret", APIURL: api, BankURL: base,
		BotUsername: "bankbridge_demo_bot", Backoff: time.Millisecond, Now: now}, in.hub)
	if err != nil {
		t.Fatal(err)
	}
	in.ad = ad
	in.hub.Add(ad, nil)
	return in
}

// TestTelegramInboxSurvivesARestart: over HTTP, through the emulator, on
// each engine. The webhook answers 200 once an update is stored, before
// any reply; a redelivered update_id is stored once. The process then
// dies without having replied, one update claimed by a worker that died
// with it; a new process on the same database answers every stored
// update, in order per chat, once the dead worker's lease runs out.
func TestTelegramInboxSurvivesARestart(t *testing.T) {
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
			sim := platformsim.NewTelegram(platformsim.TelegramOptions{Prefix: "/sim/telegram", BaseURL: srv.URL + "/sim/telegram", BotToken: "123:ABC"})
			mux.Handle("/sim/telegram/", sim.Handler())
			mux.Handle("/channels/telegram/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*bank.Load()).ServeHTTP(w, r) }))

			first := start(t, engine, where, sim.APIURL(), srv.URL, time.Now)
			h := first.ad.Handler()
			bank.Store(&h)
			if err := first.ad.Start(ctx); err != nil {
				t.Fatal(err)
			}
			said := map[string][]string{"ann": {"hi", "help", "balance"}, "bob": {"hi"}}
			for _, name := range []string{"ann", "bob"} {
				for _, text := range said[name] {
					if err := sim.Say(ctx, name, text); err != nil {
						t.Fatalf("%s says %q: %v", name, text, err)
					}
				}
			}
			// Telegram redelivers an update it thinks was not received:
			// the same update_id, stored once.
			hook, secret := sim.Webhook()
			dup := fmt.Sprintf(`{"update_id":9000,"message":{"message_id":9000,"from":{"id":%d,"is_bot":false},"chat":{"id":%[1]d,"type":"private"},"date":%d,"text":"thanks"}}`,
				sim.Chat("bob").ID, time.Now().Unix())
			for range 2 {
				req, _ := http.NewRequest(http.MethodPost, hook, bytes.NewReader([]byte(dup)))
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Fatalf("the webhook answered %s", res.Status)
				}
			}
			said["bob"] = append(said["bob"], "thanks")
			for name := range said {
				if n := len(botLines(sim.Chat(name))); n != 0 {
					t.Fatalf("%d replies to %s before any worker ran", n, name)
				}
			}
			// A worker of the first process claims an update and dies with it.
			if evs, err := first.st.Claim(ctx, "dead-worker", time.Now(), channels.InboxLease, 1); err != nil || len(evs) != 1 {
				t.Fatalf("claim: %v %v", evs, err)
			}
			first.close()

			// The next process: its clock past the dead worker's lease.
			later := func() time.Time { return time.Now().Add(channels.InboxLease + time.Second) }
			second := start(t, engine, where, sim.APIURL(), srv.URL, later)
			t.Cleanup(second.close)
			h2 := second.ad.Handler()
			bank.Store(&h2)
			wctx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); second.hub.RunInbox(wctx) }()

			deadline, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			for name, texts := range said {
				for c := sim.Chat(name); len(botLines(c)) < len(texts); c = sim.Chat(name) {
					if !sim.WaitReply(deadline, name, len(c.Lines)) {
						t.Fatalf("%s's replies after the restart: %+v", name, botLines(sim.Chat(name)))
					}
				}
			}
			stop()
			<-done
			// Every update was answered once: nothing is left in the inbox,
			// and each person has one reply per message, in order (each reply
			// after the message it answers).
			if left, err := second.st.Claim(ctx, "probe", later().Add(channels.InboxLease), channels.InboxLease, 10); err != nil || len(left) != 0 {
				t.Errorf("events left in the inbox: %+v %v", left, err)
			}
			for name, texts := range said {
				bot := botLines(sim.Chat(name))
				if len(bot) != len(texts) {
					t.Errorf("%s: %d replies to %d messages (one redelivered)", name, len(bot), len(texts))
				}
			}
			ann := botLines(sim.Chat("ann"))
			for i, want := range []string{"automated assistant", "", "link"} {
				if i < len(ann) && !strings.Contains(ann[i].Text, want) {
					t.Errorf("ann's reply %d to %q is %q, want it to contain %q (out of order?)", i, said["ann"][i], ann[i].Text, want)
				}
			}
		})
	}
}

func botLines(c platformsim.TelegramChat) []platformsim.TelegramLine {
	var out []platformsim.TelegramLine
	for _, l := range c.Lines {
		if l.FromBot {
			out = append(out, l)
		}
	}
	return out
}
