package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge/channels/messenger"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/platformsim"
	"github.com/bankbridge/bankbridge/store/postgres"
)

// roundRobin is a load balancer in front of a fleet: each request goes to
// the next instance. It counts the webhooks each instance received.
type roundRobin struct {
	mu       sync.Mutex
	backends []*url.URL
	hooks    map[string]int
	next     atomic.Uint64
}

func (lb *roundRobin) add(base string) {
	u, _ := url.Parse(base)
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.backends = append(lb.backends, u)
}

func (lb *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lb.mu.Lock()
	if len(lb.backends) == 0 {
		lb.mu.Unlock()
		http.Error(w, "no instance", http.StatusBadGateway)
		return
	}
	to := lb.backends[int(lb.next.Add(1))%len(lb.backends)]
	if r.Method == http.MethodPost && r.URL.Path == messenger.PathWebhook {
		lb.hooks[to.Host]++
	}
	lb.mu.Unlock()
	(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(to); pr.Out.Host = pr.In.Host }}).ServeHTTP(w, r)
}

// TestFleetChatUserReachesOneConversationThroughTwoInstances: a fleet (two
// instances on one PostgreSQL and one NATS behind a load balancer) refuses
// to start an emulator per instance, and with the one emulator the fleet
// runs (`bankbridge sim`), a chat user whose messages reach both instances
// gets every reply in the same conversation.
func TestFleetChatUserReachesOneConversationThroughTwoInstances(t *testing.T) {
	t.Parallel()
	db := testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open)
	keyFile := filepath.Join(t.TempDir(), "fleet.kek")
	lb := &roundRobin{hooks: map[string]int{}}
	front := httptest.NewServer(lb)
	defer front.Close()
	common := []string{"--database", db, "--events", "nats://127.0.0.1:4222", "--key-file", keyFile, "--public-url", front.URL, "--demo=false"}

	// No Graph URL: each instance would start its own emulator. Refused,
	// saying what to do.
	refusedCtx, stop := context.WithTimeout(context.Background(), time.Minute) // a serve that starts anyway ends, and fails the test
	defer stop()
	err := run(refusedCtx, append([]string{"bankbridge", "serve", "--addr", "127.0.0.1:0", "--data", t.TempDir()}, common...),
		func(string) string { return "" }, strings.NewReader(""), io.Discard, io.Discard)
	if _, ok := err.(app.UsageError); !ok || !strings.Contains(err.Error(), "bankbridge sim") || !strings.Contains(err.Error(), "--embedded-sim") {
		t.Fatalf("a fleet instance with the embedded emulator: %v, want a usage error naming bankbridge sim and --embedded-sim", err)
	}

	// The fleet's one emulator, as `bankbridge sim --bank-url <front>` runs it.
	simMux := http.NewServeMux()
	simSrv := httptest.NewServer(simMux)
	defer simSrv.Close()
	sim := platformsim.New(platformsim.Options{BaseURL: simSrv.URL, WebhookURL: front.URL + messenger.PathWebhook,
		AppSecret: app.DemoAppSecret, VerifyToken: app.DemoVerifyToken, PageToken: app.DemoPageToken, AllowLoopbackHTTP: true})
	simMux.Handle("/", sim.Handler())
	env := map[string]string{"BANKBRIDGE_MESSENGER_GRAPH_URL": sim.GraphURL(), "BANKBRIDGE_MESSENGER_REDIRECT_URI": sim.RedirectURI(),
		"BANKBRIDGE_MESSENGER_APP_SECRET": app.DemoAppSecret, "BANKBRIDGE_MESSENGER_VERIFY_TOKEN": app.DemoVerifyToken,
		"BANKBRIDGE_MESSENGER_PAGE_TOKEN": app.DemoPageToken}
	for range 2 {
		base, _ := startServer(t, env, append([]string{"--data", t.TempDir()}, common...)...)
		lb.add(base)
	}
	if err := sim.Subscribe(context.Background()); err != nil {
		t.Fatalf("webhook verification through the load balancer: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	said := []string{"hi", "what's my balance?", "hello again", "help"}
	for i, text := range said {
		if err := sim.Say(ctx, "ann", text); err != nil {
			t.Fatalf("say %q: %v", text, err)
		}
		// Each message is answered in ann's one conversation, whichever
		// instance took the webhook.
		for replies(sim.Chat("ann")) < i+1 {
			if ctx.Err() != nil {
				t.Fatalf("%d replies to %d messages in ann's chat: %+v\nwebhooks per instance: %v", replies(sim.Chat("ann")), i+1, sim.Chat("ann").Lines, lb.hooks)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	lb.mu.Lock()
	defer lb.mu.Unlock()
	if len(lb.hooks) != 2 {
		t.Errorf("webhooks per instance %v: want both instances to have taken some", lb.hooks)
	}
	if users := sim.Users(); len(users) != 1 {
		t.Errorf("emulator users %v, want ann only", users)
	}
}

// replies counts the page's messages in a chat.
func replies(u platformsim.User) int {
	n := 0
	for _, l := range u.Lines {
		if l.FromPage && !l.Note {
			n++
		}
	}
	return n
}
