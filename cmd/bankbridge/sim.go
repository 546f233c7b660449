package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/messenger"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/platformsim"
)

func init() {
	commands["sim"] = command{"run the messaging platform emulator (chat pages, signed webhooks, Send API) for a bank", simCmd}
}

// Demo values of the messenger channel's secrets, used by the demo and by
// `bankbridge sim` when none are set: both sides must agree.
const (
	demoAppSecret   = "demo-app-secret"
	demoVerifyToken = "demo-verify-token"
	demoPageToken   = "demo-page-token"
)

func simCmd(ctx context.Context, e env, args []string) error {
	var addr, public, bank, secret, verify, page, level string
	str := func(fs *flag.FlagSet, p *string, name, env, def, help string) {
		if v := e.getenv(env); v != "" {
			def = v
		}
		fs.StringVar(p, name, def, help+" (env "+env+")")
	}
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	str(fs, &addr, "addr", "BANKBRIDGE_SIM_ADDR", ":8090", "listen address")
	str(fs, &public, "public-url", "BANKBRIDGE_SIM_PUBLIC_URL", "", "the sim's public base URL (default http://localhost:<port>)")
	str(fs, &bank, "bank-url", "BANKBRIDGE_PUBLIC_URL", "http://localhost:8080", "the bank's base URL; webhooks go to <bank-url>/channels/messenger/webhook")
	str(fs, &secret, "app-secret", "BANKBRIDGE_MESSENGER_APP_SECRET", demoAppSecret, "app secret that signs webhooks")
	str(fs, &verify, "verify-token", "BANKBRIDGE_MESSENGER_VERIFY_TOKEN", demoVerifyToken, "webhook verify token")
	str(fs, &page, "page-token", "BANKBRIDGE_MESSENGER_PAGE_TOKEN", demoPageToken, "page access token the Send API accepts")
	str(fs, &level, "log-level", "BANKBRIDGE_LOG_LEVEL", "info", "log level")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lv}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	if public == "" {
		public = fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port)
	}
	public = strings.TrimSuffix(public, "/")
	bank = strings.TrimSuffix(bank, "/")
	sim := platformsim.New(platformsim.Options{BaseURL: public, WebhookURL: bank + "/channels/messenger/webhook",
		AppSecret: secret, VerifyToken: verify, PageToken: page, Logger: log})
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 60 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(e.stdout, "messaging platform emulator is running.\n  Chats:        %s/\n  Webhook to:   %s/channels/messenger/webhook\n"+
		"Run the bank with:\n  BANKBRIDGE_MESSENGER_GRAPH_URL=%s\n  BANKBRIDGE_MESSENGER_REDIRECT_URI=%s\n",
		public, bank, sim.GraphURL(), sim.RedirectURI())
	go func() {
		// Subscribe once the bank answers; a bank not yet up is fine.
		for i := 0; i < 30; i++ {
			if err := sim.Subscribe(ctx); err == nil {
				log.Info("webhook verified", "bank", bank)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
		}
		log.Warn("the bank's webhook did not answer the verification; is the bank running with the same verify token?")
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// messengerDeps is what the messenger channel needs from serve.
type messengerDeps struct {
	base    string // the bank's public base URL
	data    string // data folder: the messenger partner's key lives there
	getenv  func(string) string
	backend *backend
	ledger  *ledger.Service
	consent *consent.Service
	audit   *audit.Log
	hook    *consent.LateHook // passed to consent.New's Hooks before the hub exists
	answer  *alertAnswers     // "was this you?" taps, routed to the alerts service
	log     *slog.Logger
}

// messengerWiring is the messenger channel inside serve: the assistant, the
// hub (set as the consent hook's target), the Messenger adapter with its
// OAuth client, the "messenger" partner registered idempotently, and, when
// BANKBRIDGE_MESSENGER_GRAPH_URL is empty, platformsim mounted at /sim/ with
// the demo secrets so the whole flow runs on one machine. It returns the
// handlers to mount (by path prefix) and the hub for web.Deps.Inbox.
func messengerWiring(ctx context.Context, d messengerDeps) (map[string]http.Handler, *channels.Hub, error) {
	cfg := messenger.Env(d.getenv)
	cfg.BankURL, cfg.Logger = d.base, d.log
	if d.backend.limits != nil {
		cfg.Turns = d.backend.limits // the page's send budget, for the fleet
	}
	redirect := d.getenv("BANKBRIDGE_MESSENGER_REDIRECT_URI")
	mounts := map[string]http.Handler{}
	if cfg.GraphURL == "" {
		// The demo: the emulator inside this process, on this origin.
		cfg.AppSecret, cfg.VerifyToken, cfg.PageToken = cmpOr(cfg.AppSecret, demoAppSecret), cmpOr(cfg.VerifyToken, demoVerifyToken), cmpOr(cfg.PageToken, demoPageToken)
		sim := platformsim.New(platformsim.Options{Prefix: "/sim", BaseURL: d.base + "/sim", WebhookURL: d.base + messenger.PathWebhook,
			AppSecret: cfg.AppSecret, VerifyToken: cfg.VerifyToken, PageToken: cfg.PageToken, Logger: d.log})
		cfg.GraphURL, redirect = sim.GraphURL(), sim.RedirectURI()
		mounts["/sim/"] = sim.Handler()
	}
	if redirect == "" {
		return nil, nil, fmt.Errorf("messenger: set BANKBRIDGE_MESSENGER_REDIRECT_URI (the platform's account-linking redirect)")
	}
	key, err := channels.LoadOrCreateKey(filepath.Join(d.data, "messenger-partner.pem"))
	if err != nil {
		return nil, nil, err
	}
	clusters := []consent.Cluster{consent.AccountBasic, consent.Balances, consent.Transactions, consent.Transfers}
	if _, err := channels.RegisterPartner(ctx, d.consent, channels.Registration{ID: "messenger", LegalName: "Messenger Platform (demo)",
		LEI: "5493001KJTIIGC8Y1R12", Homepage: "https://messenger.example", SecurityContact: "security@messenger.example",
		RedirectURI: redirect, Key: &key.PublicKey, Signatory: "Platform counsel",
		Purposes: map[consent.Cluster]string{consent.AccountBasic: "name your accounts in the chat", consent.Balances: "answer balance questions in the chat",
			consent.Transactions: "answer questions about your activity and spending in the chat", consent.Transfers: "pay people you saved, after you confirm in the chat"},
	}); errors.Is(err, channels.ErrPartnerMismatch) {
		// The partner was registered for another address (the bank moved to
		// another port or URL). Its redirect URIs are never changed behind
		// staff's back, so the channel stays off and serve goes on.
		d.log.Warn("messenger channel off: the messenger partner is registered with other redirect URIs or keys; "+
			"check it with 'bankbridge partner list' and register it again for this address", "redirect", redirect)
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	deps := assistant.Deps{Store: d.backend.messenger, Ledger: d.ledger, Consents: d.consent, BankURL: d.base}
	if d.answer != nil {
		deps.Answer = d.answer.Answer
	}
	a := assistant.New(deps)
	hub := channels.NewHub(channels.HubDeps{Assistant: a, Store: d.backend.messenger, Audit: d.audit, Consents: d.consent, Logger: d.log})
	d.hook.Set(hub)
	ad, err := messenger.New(cfg, hub)
	if err != nil {
		return nil, nil, err
	}
	hub.Add(ad, &channels.Client{ID: "messenger", Issuer: d.base, RedirectURI: redirect, Key: key, Clusters: clusters, DurationDays: 90})
	mounts["/channels/messenger/"] = ad.Handler()
	return mounts, hub, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
