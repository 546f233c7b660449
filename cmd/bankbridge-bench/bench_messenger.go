package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/channels/messenger"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/demo"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/platformsim"
	"github.com/prometheus/client_golang/prometheus"
)

// benchMessenger measures the messenger channel over loopback HTTP, wired
// as serve wires it (app.MessengerWiring, the request-id and metrics
// middleware, the durable audit log), with platformsim as the platform:
//
//   - latency: one message at a time (--rate per second at most), webhook
//     in (signed by the sim) to the reply accepted by the sim's Send API: a
//     full-privacy balance, so the durable disclosure record is on the
//     path; most are a user's first message (a new conversation). Goal:
//     p99 < 50 ms.
//   - concurrent: every linked user writes at once ("balance", then "recent
//     activity", "help", ... for --rounds messages each), bounded by
//     --timeout. Goal: no error. An error is a webhook the bank did not
//     accept with 200, a message without its reply in the chat, or an
//     apology instead of an answer.
//
// The users are linked directly through the messenger store (an active
// consent for the "messenger" partner and a link per user), not through
// the OAuth flow in a browser: that flow is covered by the end-to-end
// tests and would make setting up 1,000 users the slowest part. The sim's
// Send API rate limit is lifted (the real platform's is per page and far
// higher than its default here); the bank's own Send API pacing (200/s,
// burst 50) stays, as serve has it.
func benchMessenger(ctx context.Context, e env, args []string) error {
	var c app.Config
	fs := flag.NewFlagSet("bench messenger", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	c.Flags(fs, e.getenv)
	users := fs.Int("users", 1000, "linked users writing at once in the concurrent scenario")
	messages := fs.Int("messages", 400, "messages timed one at a time in the latency scenario")
	rate := fs.Float64("rate", 100, "messages per second offered in the latency scenario (below the bank's Send API pacing of 200/s, which would otherwise set the latency)")
	rounds := fs.Int("rounds", 1, "messages each user sends in the concurrent scenario, one after the other")
	timeout := fs.Duration("timeout", 2*time.Minute, "bound on the concurrent scenario; unanswered messages are errors")
	asJSON := fs.Bool("json", false, "print one JSON object per scenario")
	if err := app.Parse(fs, args, &c); err != nil {
		return err
	}
	if *users < 1 || *users > 20000 || *messages < 1 || *rounds < 1 || *rounds > 100 || *timeout <= 0 || *rate <= 0 {
		return app.UsageError("--users 1..20000, --messages at least 1, --rounds 1..100, --timeout and --rate positive")
	}
	cleanup, err := benchDatabase(ctx, &c)
	if err != nil {
		return err
	}
	defer cleanup()
	w, err := newMessengerBench(ctx, &c, *users)
	if err != nil {
		return err
	}
	defer w.close()

	var failed []string
	report := func(r messengerBenchResult) error {
		if r.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s: %d errors, the first: %s", r.Name, r.Errors, r.First))
		}
		if *asJSON {
			return json.NewEncoder(e.stdout).Encode(r)
		}
		goal := ""
		if r.Name == "latency" {
			goal = fmt.Sprintf(" (goal p99 < 50 ms: %s)", map[bool]string{true: "met", false: "MISSED"}[r.P99 < 50])
		}
		_, err := fmt.Fprintf(e.stdout, "%s: engine=%s conversations=%d messages=%d errors=%d in %.2fs (%.0f messages/s)\n  webhook in to reply sent: p50=%.2fms p99=%.2fms max=%.2fms%s\n  webhook answered: p50=%.2fms p99=%.2fms (goal p99 < 50 ms: %s; a do-nothing handler in this run: p50=%.2fms p99=%.2fms)\n",
			r.Name, r.Engine, r.Conversations, r.Messages, r.Errors, r.Elapsed, float64(r.Messages)/r.Elapsed, r.P50, r.P99, r.Max, goal,
			r.AckP50, r.AckP99, map[bool]string{true: "met", false: "MISSED"}[r.AckP99 < 50], r.FloorP50, r.FloorP99)
		return err
	}
	lat, err := w.latency(ctx, *messages, *rate)
	if err != nil {
		return err
	}
	if err := report(lat); err != nil {
		return err
	}
	conc, err := w.concurrent(ctx, *rounds, *timeout)
	if err != nil {
		return err
	}
	if err := report(conc); err != nil {
		return err
	}
	if n := w.rejected.Load(); n > 0 {
		failed = append(failed, fmt.Sprintf("%d webhooks answered other than 200", n))
	}
	if len(failed) > 0 {
		return fmt.Errorf("bench messenger: %s", strings.Join(failed, "; "))
	}
	return nil
}

type messengerBenchResult struct {
	Name          string `json:"name"`
	Engine        string `json:"engine"`
	Conversations int    `json:"conversations"`
	Messages      int    `json:"messages"`
	// P50, P99 and Max are webhook in to reply sent: the sim posts the
	// webhook, the bank stores it and answers 200, its inbox worker
	// answers through the Send API.
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
	// AckP50 and AckP99 are the webhook's answer alone: how long the
	// platform waits for the 200 (goal p99 < 50 ms).
	AckP50 float64 `json:"webhook_ack_p50_ms"`
	AckP99 float64 `json:"webhook_ack_p99_ms"`
	// FloorP50 and FloorP99 (concurrent scenario) are the same burst of
	// webhooks answered by a handler that does nothing (messengerBench.floor):
	// the baseline beside AckP50 and AckP99, in the same run.
	FloorP50 float64 `json:"webhook_floor_p50_ms,omitempty"`
	FloorP99 float64 `json:"webhook_floor_p99_ms,omitempty"`
	Errors   int     `json:"errors"`
	Elapsed  float64 `json:"elapsed_s"`
	First    string  `json:"first_error,omitempty"`
}

// messengerBench is a bank and the platform emulator on one loopback
// server, with n linked users.
type messengerBench struct {
	engine string
	sim    *platformsim.Sim
	// floor is a second emulator whose webhooks go to a handler that only
	// reads the body and answers 200: the same signing, posting and
	// scheduling as the bank's webhooks, none of the bank's work. Its
	// answer times, taken in the same run, are the floor the machine
	// allows the bank's.
	floor    *platformsim.Sim
	tr       *http.Transport // both emulators' connections to the bank
	names    []string
	rejected atomic.Int64 // webhooks the bank answered with other than 200
	close    func()
}

func newMessengerBench(ctx context.Context, c *app.Config, n int) (_ *messengerBench, err error) {
	var closers []func()
	w := &messengerBench{close: func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	// Keys (the audit signing key, the messenger partner's key) go to a
	// temporary folder, also when the database is PostgreSQL.
	dir, err := os.MkdirTemp("", "bankbridge-bench-messenger-")
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { os.RemoveAll(dir) })
	b, err := app.OpenBackend(ctx, c)
	if err != nil {
		return nil, err
	}
	closers = append(closers, func() { b.Close() })
	w.engine = b.Engine
	log := slog.New(slog.DiscardHandler)
	led := ledger.New(b.Ledger, b.LedgerOptions())
	closers = append(closers, led.Close)
	akey, err := audit.LoadOrCreateKey(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		return nil, err
	}
	alog := audit.New(b.Audit, audit.Options{Key: akey, Logger: log})
	closers = append(closers, alog.Close)
	hook := &consent.LateHook{}
	cons := consent.New(b.Consent, consent.Options{Accounts: b.Ledger,
		Hooks: []consent.Hook{app.ConsentAudit(alog, log), hook}, PartnerHooks: []consent.PartnerHook{app.PartnerAudit(alog, log)}})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	// Loopback connections are kept and reused, as between two busy
	// services; the default of two idle connections per host would open
	// and close one per message under load.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 4096, 4096
	closers = append(closers, tr.CloseIdleConnections)
	w.tr = tr
	w.sim = platformsim.New(platformsim.Options{Prefix: "/sim", BaseURL: base + "/sim", WebhookURL: base + messenger.PathWebhook,
		AppSecret: app.DemoAppSecret, VerifyToken: app.DemoVerifyToken, PageToken: app.DemoPageToken, RatePerSecond: 1 << 30,
		HTTP: &http.Client{Transport: tr, Timeout: time.Minute}, Logger: log, AllowLoopbackHTTP: true})
	w.floor = platformsim.New(platformsim.Options{BaseURL: base + "/floor-sim", WebhookURL: base + "/floor", AppSecret: app.DemoAppSecret,
		VerifyToken: app.DemoVerifyToken, PageToken: app.DemoPageToken, HTTP: &http.Client{Transport: tr, Timeout: time.Minute}, Logger: log})
	env := map[string]string{
		"BANKBRIDGE_MESSENGER_APP_SECRET":   app.DemoAppSecret,
		"BANKBRIDGE_MESSENGER_VERIFY_TOKEN": app.DemoVerifyToken,
		"BANKBRIDGE_MESSENGER_PAGE_TOKEN":   app.DemoPageToken,
		"BANKBRIDGE_MESSENGER_GRAPH_URL":    w.sim.GraphURL(),
		"BANKBRIDGE_MESSENGER_REDIRECT_URI": w.sim.RedirectURI(),
	}
	mounts, hub, err := app.MessengerWiring(ctx, app.MessengerDeps{Base: base, Data: dir, Getenv: func(k string) string { return env[k] },
		Backend: b, Ledger: led, Consent: cons, Audit: alog, Hook: hook, Log: log})
	if err != nil {
		return nil, err
	}
	if hub == nil {
		return nil, errors.New("bench messenger: the messenger channel did not start")
	}
	// The inbox worker, as serve runs it in its workers group.
	wctx, stopInbox := context.WithCancel(context.WithoutCancel(ctx))
	inboxDone := make(chan struct{})
	go func() { defer close(inboxDone); hub.RunInbox(wctx) }()
	closers = append(closers, func() { stopInbox(); <-inboxDone })
	mux := http.NewServeMux()
	mux.Handle("/sim/", w.sim.Handler())
	mux.HandleFunc("POST /floor", func(rw http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(rw, "EVENT_RECEIVED")
	})
	for prefix, h := range mounts {
		if prefix == "/sim/" {
			continue
		}
		mux.Handle(prefix, w.counting(h))
	}
	srv := &http.Server{Handler: app.RequestID(app.NewHTTPMetrics(prometheus.NewRegistry()).Wrap(mux)), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	closers = append(closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	})
	if err := w.sim.Subscribe(ctx); err != nil {
		return nil, err
	}
	if err := w.users(ctx, b, led, cons, n); err != nil {
		return nil, fmt.Errorf("bench messenger: set up %d users: %w", n, err)
	}
	return w, nil
}

// counting counts the webhooks the bank did not accept.
func (w *messengerBench) counting(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		sw := &app.StatusWriter{ResponseWriter: rw} // internal/app/metrics.go
		next.ServeHTTP(sw, r)
		if r.Method == http.MethodPost && r.URL.Path == messenger.PathWebhook && sw.Code != 0 && sw.Code != http.StatusOK {
			w.rejected.Add(1)
		}
	})
}

// users creates n customers, each with a funded checking account, an
// active consent for the messenger partner over it, a link from a
// simulated user to the customer, and privacy set to full.
func (w *messengerBench) users(ctx context.Context, b *app.Backend, led *ledger.Service, cons *consent.Service, n int) error {
	hash, err := identity.HashPassword("bench-not-for-login")
	if err != nil {
		return err
	}
	cs := make([]identity.Customer, n)
	for i := range cs {
		cs[i] = identity.Customer{Name: fmt.Sprintf("Chat User %d", i), Email: fmt.Sprintf("chat%05d@bench.example", i), BirthYear: 1980 + i%30}
	}
	cs, err = b.Identity.ImportCustomers(ctx, cs, hash)
	if err != nil {
		return err
	}
	settle, err := b.Ledger.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "settlement", Currency: "USD", Number: "BENCH-MSG-SETTLE", Routing: "021000089", Unbounded: true})
	if err != nil {
		return err
	}
	as := make([]ledger.Account, n)
	for i, cu := range cs {
		as[i] = ledger.Account{Customer: cu.ID, Kind: ledger.Checking, Name: "Everyday checking", Currency: "USD", Number: ledger.AccountNumber(fmt.Sprintf("M%011d", i)), Routing: "021000089"}
	}
	if bulk, ok := b.Ledger.(demo.BulkLedger); ok {
		as, err = bulk.CreateAccounts(ctx, as)
	} else {
		for i := range as {
			if as[i], err = b.Ledger.CreateAccount(ctx, as[i]); err != nil {
				break
			}
		}
	}
	if err != nil {
		return err
	}
	w.names = make([]string, n)
	clusters := []consent.Cluster{consent.AccountBasic, consent.Balances, consent.Transactions, consent.Transfers}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, 16)
	for i := range n {
		w.names[i] = fmt.Sprintf("user%05d", i)
		psid := w.sim.Chat(w.names[i]).PSID
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := func() error {
				if _, _, err := led.Transfer(ctx, ledger.Move("bench-messenger", fmt.Sprint(i), settle.ID, as[i].ID, 250_000, "USD", "Salary")); err != nil {
					return err
				}
				g, err := cons.NewGrant(ctx, consent.GrantRequest{Customer: cs[i].ID, Partner: messenger.Platform, DurationDays: 90,
					Resources: []consent.Resource{{Account: as[i].ID, Clusters: clusters}}})
				if err != nil {
					return err
				}
				now := time.Now().UTC()
				if err := b.Messenger.SaveLink(ctx, assistant.Link{Key: assistant.Key{Platform: messenger.Platform, User: psid},
					Customer: cs[i].ID, Grant: g.ID, Linked: now}); err != nil {
					return err
				}
				s := assistant.DefaultSettings(cs[i].ID)
				s.Privacy, s.Updated = assistant.PrivacyFull, now
				return b.Messenger.SaveSettings(ctx, s)
			}()
			if err != nil {
				mu.Lock()
				first = cmpOrErr(first, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

func cmpOrErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// say has a user write text and checks the reply: the page answered after
// the message, with no apology, and a balance with an amount. It returns
// the time to the webhook's 200 (ack) and to the reply in the chat (d).
func (w *messengerBench) say(ctx context.Context, name, text string) (d, ack time.Duration, err error) {
	before := len(w.sim.Chat(name).Lines)
	t0 := time.Now()
	if err := w.sim.Say(ctx, name, text); err != nil {
		return 0, 0, err
	}
	ack = time.Since(t0)
	if !w.sim.WaitReply(ctx, name, before+1) {
		return 0, ack, fmt.Errorf("%s: no reply to %q before the deadline", name, text)
	}
	d = time.Since(t0)
	lines := w.sim.Chat(name).Lines
	var replies []string
	for _, l := range lines[min(before+1, len(lines)):] {
		if l.FromPage {
			replies = append(replies, l.Text)
		}
	}
	got := strings.Join(replies, "\n")
	switch {
	case len(replies) == 0:
		return d, ack, fmt.Errorf("%s: no reply to %q", name, text)
	case strings.HasPrefix(got, "Sorry, something went wrong"):
		return d, ack, fmt.Errorf("%s: apology for %q", name, text)
	case text == "balance" && !strings.Contains(got, " USD"):
		return d, ack, fmt.Errorf("%s: balance answered %q", name, got)
	}
	return d, ack, nil
}

// latency sends messages one at a time, each from the next user in turn,
// at most rate per second, after a short warm-up. (A closed loop faster
// than the bank's Send API pacing would measure the pacing, not the path.)
func (w *messengerBench) latency(ctx context.Context, messages int, rate float64) (messengerBenchResult, error) {
	for i := range min(20, len(w.names)) {
		if _, _, err := w.say(ctx, w.names[i], "balance"); err != nil {
			return messengerBenchResult{}, fmt.Errorf("bench messenger: warm-up: %w", err)
		}
	}
	res := messengerBenchResult{Name: "latency", Engine: w.engine, Conversations: min(messages, len(w.names))}
	lat := make([]time.Duration, 0, messages)
	acks := make([]time.Duration, 0, messages)
	start := time.Now()
	every := time.Duration(float64(time.Second) / rate)
	for i := range messages {
		if wait := time.Until(start.Add(time.Duration(i) * every)); wait > 0 {
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(wait):
			}
		}
		d, ack, err := w.say(ctx, w.names[i%len(w.names)], "balance")
		if ack > 0 {
			acks = append(acks, ack)
		}
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			res.Errors++
			if res.First == "" {
				res.First = err.Error()
			}
			continue
		}
		lat = append(lat, d)
	}
	res.Elapsed = time.Since(start).Seconds()
	res.Messages = messages
	return res.percentiles(lat, acks), nil
}

// concurrentTexts are what each user writes, in turn.
var concurrentTexts = []string{"balance", "recent activity", "help", "how much did I spend this month"}

// concurrent has every user write at once, rounds messages each, and waits
// for all answers or the timeout.
func (w *messengerBench) concurrent(ctx context.Context, rounds int, timeout time.Duration) (messengerBenchResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := messengerBenchResult{Name: "concurrent", Engine: w.engine, Conversations: len(w.names), Messages: len(w.names) * rounds}
	// The floor first: the same burst to a handler that does nothing.
	floor := make([]time.Duration, len(w.names))
	// Each burst starts without kept connections, as a burst from the
	// platform does: both pay for opening theirs.
	w.tr.CloseIdleConnections()
	defer w.tr.CloseIdleConnections()
	{
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for u, name := range w.names {
			wg.Go(func() {
				<-gate
				t0 := time.Now()
				if err := w.floor.Say(ctx, name, "balance"); err == nil {
					floor[u] = time.Since(t0)
				}
			})
		}
		close(gate)
		wg.Wait()
		slices.Sort(floor)
		res.FloorP50, res.FloorP99 = ms(quantile(floor, 1, 2)), ms(quantile(floor, 99, 100))
		w.tr.CloseIdleConnections()
	}
	lats := make([][]time.Duration, len(w.names))
	acks := make([][]time.Duration, len(w.names))
	errs := make([]int, len(w.names))
	var firstErr atomic.Pointer[error]
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for u, name := range w.names {
		wg.Go(func() {
			<-gate
			for r := range rounds {
				d, ack, err := w.say(ctx, name, concurrentTexts[r%len(concurrentTexts)])
				if ack > 0 {
					acks[u] = append(acks[u], ack)
				}
				if err != nil {
					errs[u]++
					firstErr.CompareAndSwap(nil, &err)
					if ctx.Err() != nil {
						errs[u] += rounds - r - 1
						return
					}
					continue
				}
				lats[u] = append(lats[u], d)
			}
		})
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	res.Elapsed = time.Since(start).Seconds()
	var all, allAcks []time.Duration
	for u := range lats {
		all = append(all, lats[u]...)
		allAcks = append(allAcks, acks[u]...)
		res.Errors += errs[u]
	}
	if p := firstErr.Load(); p != nil {
		res.First = (*p).Error()
	}
	return res.percentiles(all, allAcks), nil
}

func (r messengerBenchResult) percentiles(lat, acks []time.Duration) messengerBenchResult {
	if len(acks) > 0 {
		slices.Sort(acks)
		r.AckP50, r.AckP99 = ms(quantile(acks, 1, 2)), ms(quantile(acks, 99, 100))
	}
	if len(lat) == 0 {
		return r
	}
	slices.Sort(lat)
	r.P50, r.P99, r.Max = ms(quantile(lat, 1, 2)), ms(quantile(lat, 99, 100)), ms(quantile(lat, 1, 1))
	return r
}
