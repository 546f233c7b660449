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
	commands["sim"] = command{"run the messaging platform emulator (chat pages, signed webhooks, Send API) for a bank", simCmd}
}

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
	str(fs, &secret, "app-secret", "BANKBRIDGE_MESSENGER_APP_SECRET", app.DemoAppSecret, "app secret that signs webhooks")
	str(fs, &verify, "verify-token", "BANKBRIDGE_MESSENGER_VERIFY_TOKEN", app.DemoVerifyToken, "webhook verify token")
	str(fs, &page, "page-token", "BANKBRIDGE_MESSENGER_PAGE_TOKEN", app.DemoPageToken, "page access token the Send API accepts")
	str(fs, &level, "log-level", "BANKBRIDGE_LOG_LEVEL", "info", "log level")
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
	sim := platformsim.New(platformsim.Options{BaseURL: public, WebhookURL: bank + "/channels/messenger/webhook",
		AppSecret: secret, VerifyToken: verify, PageToken: page, Logger: log, AllowLoopbackHTTP: loopback})
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 60 * time.Second}
	errc := serveOn(srv, ln)
	fmt.Fprintf(e.stdout, "messaging platform emulator is running.\n  Chats:        %s/\n  Webhook to:   %s/channels/messenger/webhook\n"+
		"Run the bank with:\n  BANKBRIDGE_MESSENGER_GRAPH_URL=%s\n  BANKBRIDGE_MESSENGER_REDIRECT_URI=%s\n  BANKBRIDGE_MESSENGER_APP_ID=%s\n  BANKBRIDGE_MESSENGER_PAGE_ID=%s\n"+
		"and, to share the page with the emulator's live-chat app (handover protocol):\n  BANKBRIDGE_MESSENGER_LIVECHAT_APP_ID=%s\n",
		public, bank, sim.GraphURL(), sim.RedirectURI(), sim.AppID(), sim.PageID(), sim.LiveChatAppID())
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
