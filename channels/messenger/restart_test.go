package messenger_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/messenger"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/platformsim"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/sqlstore"
)

// countedInbox is the inbox, telling the test of every event done.
type countedInbox struct {
	*sqlstore.MessengerStore
	done chan int64
}

func (c countedInbox) Done(ctx context.Context, id int64, at time.Time, failure string) error {
	err := c.MessengerStore.Done(ctx, id, at, failure)
	c.done <- id
	return err
}

// process is one bank process's Messenger side over a shared database.
type process struct {
	st    countedInbox
	hub   *channels.Hub
	ad    *messenger.Adapter
	close func()
}

func startProcess(t *testing.T, engine, where string, sim *platformsim.Sim, base string, now func() time.Time) *process {
	t.Helper()
	ctx := context.Background()
	p := &process{}
	var st *sqlstore.MessengerStore
	if engine == "postgres" {
		db, err := postgres.Open(ctx, where)
		if err != nil {
			t.Fatal(err)
		}
		st, p.close = db.Messenger(), func() { db.Close() }
	} else {
		db, err := sqlite.Open(ctx, where)
		if err != nil {
			t.Fatal(err)
		}
		st, p.close = db.Messenger(), func() { db.Close() }
	}
	p.st = countedInbox{st, make(chan int64, 100)}
	a := assistant.New(assistant.Deps{Store: st, BankURL: base, Now: now})
	p.hub = channels.NewHub(channels.HubDeps{Assistant: a, Store: st, Inbox: p.st, Links: st, Now: now})
	ad, err := messenger.New(messenger.Config{AppSecret: secret, VerifyToken: "verify-me", PageToken: "page-token",
		GraphURL: sim.GraphURL(), BankURL: base, LinkRedirect: sim.RedirectURI(), AppID: sim.AppID(), PageID: sim.PageID(),
		Backoff: time.Millisecond, Now: now}, p.hub)
	if err != nil {
		t.Fatal(err)
	}
	p.ad = ad
	p.hub.Add(ad, nil)
	return p
}

// TestMessengerInboxSurvivesARestart: on each engine, over HTTP. Events
// stored by a process that died before replying, one of them claimed by a
// worker that died with it, are answered by the next process on the same
// database, in order per person, each once (a redelivery included), once
// the dead worker's lease runs out.
func TestMessengerInboxSurvivesARestart(t *testing.T) {
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
			sim := platformsim.New(platformsim.Options{Prefix: "/sim", BaseURL: srv.URL + "/sim", WebhookURL: srv.URL + messenger.PathWebhook,
				AppSecret: secret, VerifyToken: "verify-me", PageToken: "page-token", AllowLoopbackHTTP: true})
			mux.Handle("/sim/", sim.Handler())
			mux.Handle("/channels/messenger/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*bank.Load()).ServeHTTP(w, r) }))

			first := startProcess(t, engine, where, sim, srv.URL, time.Now)
			h := first.ad.Handler()
			bank.Store(&h)
			for _, m := range []struct{ who, text string }{{"ann", "hi"}, {"ann", "help"}, {"ann", "balance"}, {"bob", "hi"}} {
				if err := sim.Say(ctx, m.who, m.text); err != nil {
					t.Fatalf("%s says %q: %v", m.who, m.text, err)
				}
			}
			if err := sim.Redeliver(ctx); err != nil { // bob's "hi" again
				t.Fatal(err)
			}
			for _, name := range []string{"ann", "bob"} {
				if n := len(pageLines(sim.Chat(name).Lines)); n != 0 {
					t.Fatalf("%d replies to %s before any worker ran", n, name)
				}
			}
			if evs, err := first.st.Claim(ctx, "dead-worker", time.Now(), channels.InboxLease, 1); err != nil || len(evs) != 1 {
				t.Fatalf("claim: %v %v", evs, err)
			}
			first.close()

			later := func() time.Time { return time.Now().Add(channels.InboxLease + time.Second) }
			second := startProcess(t, engine, where, sim, srv.URL, later)
			t.Cleanup(second.close)
			h2 := second.ad.Handler()
			bank.Store(&h2)
			wctx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); second.hub.RunInbox(wctx) }()
			deadline := time.After(30 * time.Second)
			for n := 0; n < 4; n++ {
				select {
				case <-second.st.done:
				case <-deadline:
					t.Fatalf("%d of 4 stored events processed after the restart", n)
				}
			}
			stop()
			<-done
			if left, err := second.st.Claim(ctx, "probe", later().Add(channels.InboxLease), channels.InboxLease, 10); err != nil || len(left) != 0 {
				t.Errorf("events left in the inbox: %+v %v", left, err)
			}
			ann, bob := pageLines(sim.Chat("ann").Lines), pageLines(sim.Chat("bob").Lines)
			if len(ann) != 3 || len(bob) != 1 {
				t.Fatalf("%d replies to ann's 3 messages, %d to bob's 1 (redelivered): %+v %+v", len(ann), len(bob), ann, bob)
			}
			for i, want := range []string{"automated assistant", "", "link"} {
				if !strings.Contains(ann[i].Text, want) {
					t.Errorf("ann's reply %d is %q, want it to contain %q (out of order?)", i, ann[i].Text, want)
				}
			}
		})
	}
}
