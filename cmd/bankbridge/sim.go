package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge/internal/app"
	"github.com/bankbridge/bankbridge/platformsim"
)

func init() {
	commands["sim"] = command{"run the messaging platforms' emulators (Messenger, Telegram, WhatsApp: chat pages, webhooks, send APIs) for a bank or a fleet", simCmd}
}

func simCmd(ctx context.Context, e env, args []string) error {
	var addr, public, bank, secret, verify, page, level string
	var tgToken, waToken, waSecret, waVerify, waTemplate, waLanguage string
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
	str(fs, &secret, "app-secret", "BANKBRIDGE_MESSENGER_APP_SECRET", app.DemoAppSecret, "app secret that signs webhooks")
	str(fs, &verify, "verify-token", "BANKBRIDGE_MESSENGER_VERIFY_TOKEN", app.DemoVerifyToken, "webhook verify token")
	str(fs, &page, "page-token", "BANKBRIDGE_MESSENGER_PAGE_TOKEN", app.DemoPageToken, "page access token the Send API accepts")
	str(fs, &level, "log-level", "BANKBRIDGE_LOG_LEVEL", "info", "log level")
	str(fs, &tgToken, "telegram-bot-token", "BANKBRIDGE_TELEGRAM_BOT_TOKEN", app.DemoTelegramToken, "the Telegram emulator's bot token")
	str(fs, &waToken, "whatsapp-access-token", "BANKBRIDGE_WHATSAPP_ACCESS_TOKEN", app.DemoWhatsAppToken, "the WhatsApp emulator's access token")
	str(fs, &waSecret, "whatsapp-app-secret", "BANKBRIDGE_WHATSAPP_APP_SECRET", app.DemoWhatsAppAppSecret, "app secret that signs WhatsApp webhooks")
	str(fs, &waVerify, "whatsapp-verify-token", "BANKBRIDGE_WHATSAPP_VERIFY_TOKEN", app.DemoWhatsAppVerifyToken, "WhatsApp webhook verify token")
	str(fs, &waTemplate, "whatsapp-alert-template", "BANKBRIDGE_WHATSAPP_ALERT_TEMPLATE", "account_alert", "the bank's approved utility template (one body parameter)")
	str(fs, &waLanguage, "whatsapp-alert-template-language", "BANKBRIDGE_WHATSAPP_ALERT_TEMPLATE_LANGUAGE", "en_US", "the template's language")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return app.UsageError(err.Error())
	}
	if fs.NArg() > 0 {
		return app.UsageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return app.UsageError(fmt.Sprintf("--log-level (env BANKBRIDGE_LOG_LEVEL) must be debug, info, warn or error, not %q", level))
	}
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
	// The platform takes only https account-link URLs; a bank on this
	// machine (http://localhost...) is the demo's one exception.
	loopback := false
	if u, err := url.Parse(bank); err == nil && u.Scheme == "http" {
		ip, err := netip.ParseAddr(u.Hostname())
		loopback = u.Hostname() == "localhost" || (err == nil && ip.IsLoopback())
	}
	mHook, tHook, wHook := app.Webhooks(bank)
	sim := platformsim.New(platformsim.Options{BaseURL: public, WebhookURL: mHook,
		AppSecret: secret, VerifyToken: verify, PageToken: page, Logger: log, AllowLoopbackHTTP: loopback})
	// Telegram and WhatsApp beside Messenger, under their own prefixes: a
	// fleet runs this one process, and every instance points at it (the
	// bank's webhook for Telegram is the one it sets with setWebhook).
	tg := platformsim.NewTelegram(platformsim.TelegramOptions{Prefix: "/telegram", BaseURL: public + "/telegram", BotToken: tgToken, Logger: log})
	wa := platformsim.NewWhatsApp(platformsim.WhatsAppOptions{Prefix: "/whatsapp", BaseURL: public + "/whatsapp", WebhookURL: wHook,
		AccessToken: waToken, AppSecret: waSecret, VerifyToken: waVerify, Logger: log,
		Templates: map[string]platformsim.WhatsAppTemplate{waTemplate: {Language: waLanguage, Category: "UTILITY", Status: "APPROVED", BodyParams: 1}}})
	mux := http.NewServeMux()
	mux.Handle("/telegram/", tg.Handler())
	mux.Handle("/whatsapp/", wa.Handler())
	mux.Handle("/", sim.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 60 * time.Second}
	errc := serveOn(srv, ln)
	fmt.Fprintf(e.stdout, "messaging platform emulators are running.\n  Messenger chats:  %s/chat/<name>\n  Telegram chats:   %s/chat/<name>\n  WhatsApp chats:   %s/chat/<name>\n"+
		"  Webhooks to:      %s, %s (set by the bank), %s\n"+
		"Run the bank (every instance of a fleet) with:\n  BANKBRIDGE_MESSENGER_APP_SECRET=%s\n  BANKBRIDGE_MESSENGER_VERIFY_TOKEN=%s\n  BANKBRIDGE_MESSENGER_PAGE_TOKEN=%s\n  BANKBRIDGE_MESSENGER_GRAPH_URL=%s\n  BANKBRIDGE_MESSENGER_REDIRECT_URI=%s\n  BANKBRIDGE_MESSENGER_APP_ID=%s\n  BANKBRIDGE_MESSENGER_PAGE_ID=%s\n"+
		"  BANKBRIDGE_TELEGRAM_BOT_TOKEN=%s\n  BANKBRIDGE_TELEGRAM_API_URL=%s\n  BANKBRIDGE_TELEGRAM_DEEP_LINK_URL=%s\n"+
		"  BANKBRIDGE_WHATSAPP_ACCESS_TOKEN=%s\n  BANKBRIDGE_WHATSAPP_APP_SECRET=%s\n  BANKBRIDGE_WHATSAPP_VERIFY_TOKEN=%s\n  BANKBRIDGE_WHATSAPP_PHONE_NUMBER_ID=%s\n  BANKBRIDGE_WHATSAPP_PHONE=%s\n"+
		"  BANKBRIDGE_WHATSAPP_GRAPH_URL=%s\n  BANKBRIDGE_WHATSAPP_CLICK_TO_CHAT_URL=%s\n"+
		"and, to share the Messenger page with the emulator's live-chat app (handover protocol):\n  BANKBRIDGE_MESSENGER_LIVECHAT_APP_ID=%s\n",
		public, public+"/telegram", public+"/whatsapp", mHook, tHook, wHook,
		secret, verify, page, sim.GraphURL(), sim.RedirectURI(), sim.AppID(), sim.PageID(),
		tgToken, tg.APIURL(), tg.DeepLinkURL(),
		waToken, waSecret, waVerify, wa.PhoneNumberID(), wa.DisplayPhone(), wa.GraphURL(), wa.ClickToChatURL(),
		sim.LiveChatAppID())
	// The subscription is owned here: cancelled and waited for on return.
	subCtx, stopSub := context.WithCancel(ctx)
	subDone := make(chan struct{})
	defer func() { stopSub(); <-subDone }()
	go func() {
		defer close(subDone)
		ctx := subCtx
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
	return untilDone(ctx, srv, errc)
}

// serveOn serves srv on ln in a goroutine; the channel gets Serve's error.
func serveOn(srv *http.Server, ln net.Listener) <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	return errc
}

// untilDone is a side command's lifetime (sim, witness): it returns Serve's
// error if the server stops by itself, else shuts it down within 5 s once
// ctx ends.
func untilDone(ctx context.Context, srv *http.Server, errc <-chan error) error {
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
