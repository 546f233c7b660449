package app

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/messenger"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/platformsim"
	"github.com/bankbridge/bankbridge/rails"
)

// Demo values of the messenger channel's secrets, used by the demo and by
// `bankbridge sim` when none are set: both sides must agree.
const (
	// MessengerKeyFile is the messenger partner's key file in a data folder
	// of the old layout (imported into the keyring) or of a benchmark.
	MessengerKeyFile = "messenger-partner.pem"

	DemoAppSecret   = "demo-app-secret"
	DemoVerifyToken = "demo-verify-token"
	DemoPageToken   = "demo-page-token"
)

// MessengerDeps is what the messenger channel needs from serve.
type MessengerDeps struct {
	Base    string              // the bank's public base URL
	Keys    []*ecdsa.PrivateKey // the messenger partner's keys (the keyring's), the one signing now first
	Data    string              // without Keys: the data folder holding the key's file (benchmarks)
	Getenv  func(string) string
	Backend *Backend
	Ledger  *ledger.Service
	Consent *consent.Service
	Audit   *audit.Log
	Hook    *consent.LateHook // passed to consent.New's Hooks before the hub exists
	// Answer takes "was this you?" taps (assistant.Deps.Answer), routed to
	// the alerts service; nil for none.
	Answer func(context.Context, bankbridge.CustomerID, string) (string, bool, error)
	// Fraud opens fraud cases for payments reported from a chat
	// (assistant.Deps.Fraud); nil hands those chats to a person.
	Fraud assistant.FraudDesk
	// Rails, when set, lets the chat pay payees at other banks and say how
	// those payments are getting on (assistant.Deps.Rails via ChatRails).
	Rails *rails.Service
	Log   *slog.Logger
	// Fleet refuses the embedded emulator: with several instances each
	// would have its own chat users, and the bank's replies would reach the
	// emulator of the instance that replied, not the user's. A fleet runs
	// `bankbridge sim` once and points BANKBRIDGE_MESSENGER_GRAPH_URL at it
	// (docs/decisions.md).
	Fleet bool
}

// MessengerWiring is the messenger channel inside serve: the assistant, the
// hub (set as the consent hook's target), the Messenger adapter with its
// OAuth client, the "messenger" partner registered idempotently, and, when
// BANKBRIDGE_MESSENGER_GRAPH_URL is empty, platformsim mounted at /sim/ with
// the demo secrets so the whole flow runs on one machine (a UsageError in a
// fleet, see MessengerDeps.Fleet). It returns the
// handlers to mount (by path prefix) and the hub for web.Deps.Inbox.
func MessengerWiring(ctx context.Context, d MessengerDeps) (map[string]http.Handler, *channels.Hub, error) {
	cfg := messenger.Env(d.Getenv)
	cfg.BankURL, cfg.Logger = d.Base, d.Log
	if d.Backend.RateLimits != nil {
		cfg.Turns = d.Backend.RateLimits // the page's send budget, for the fleet
	}
	var bad []string
	for _, v := range []struct{ env, val string }{{"BANKBRIDGE_MESSENGER_GRAPH_URL", cfg.GraphURL}, {"BANKBRIDGE_MESSENGER_REDIRECT_URI", cfg.LinkRedirect}} {
		if u, err := url.Parse(v.val); v.val != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) {
			bad = append(bad, fmt.Sprintf("%s=%q is not an http(s):// URL", v.env, v.val))
		}
	}
	if len(bad) > 0 {
		return nil, nil, UsageError(strings.Join(bad, "\n"))
	}
	mounts := map[string]http.Handler{}
	if cfg.GraphURL == "" && d.Fleet {
		return nil, nil, UsageError("messenger: this instance is one of a fleet (--database postgres://... and --events) and BANKBRIDGE_MESSENGER_GRAPH_URL is empty, " +
			"which would start a messaging platform emulator inside every instance, each with its own chat users and none receiving the others' replies.\n" +
			"Run the emulator once for the fleet: 'bankbridge sim --bank-url <the load balancer's URL>', and set on every instance the " +
			"BANKBRIDGE_MESSENGER_GRAPH_URL and BANKBRIDGE_MESSENGER_REDIRECT_URI it prints; or pass --embedded-sim (env BANKBRIDGE_EMBEDDED_SIM) for a fleet of one instance.")
	}
	if cfg.GraphURL == "" {
		// The demo: the emulator inside this process, on this origin.
		cfg.AppSecret, cfg.VerifyToken, cfg.PageToken = cmp.Or(cfg.AppSecret, DemoAppSecret), cmp.Or(cfg.VerifyToken, DemoVerifyToken), cmp.Or(cfg.PageToken, DemoPageToken)
		// The bank's demo URL is http on this machine: the emulator's
		// loopback exception (platformsim.Options.AllowLoopbackHTTP) lets
		// its account_link button point there; the platform wants https.
		sim := platformsim.New(platformsim.Options{Prefix: "/sim", BaseURL: d.Base + "/sim", WebhookURL: d.Base + messenger.PathWebhook,
			AppSecret: cfg.AppSecret, VerifyToken: cfg.VerifyToken, PageToken: cfg.PageToken, Logger: d.Log, AllowLoopbackHTTP: true})
		cfg.GraphURL, cfg.LinkRedirect = sim.GraphURL(), sim.RedirectURI()
		// The bank's app id is the sim's; a live-chat app only when
		// BANKBRIDGE_MESSENGER_LIVECHAT_APP_ID names one (the sim's is
		// sim.LiveChatAppID()): without it hand-overs go to the bank's
		// own staff inbox.
		cfg.AppID, cfg.PageID = cmp.Or(cfg.AppID, sim.AppID()), cmp.Or(cfg.PageID, sim.PageID())
		mounts["/sim/"] = sim.Handler()
	}
	// The bank's own OAuth redirect for the platform's partner: the
	// customer comes back here from the consent, and the adapter sends
	// them on to the platform's redirect_uri (Messenger's account linking).
	redirect := d.Base + messenger.PathLinkCallback
	chat, ok := d.Backend.Messenger.(interface {
		channels.Inbox
		channels.LinkAttempts
	})
	if !ok {
		return nil, nil, fmt.Errorf("messenger: the %s store keeps no chat inbox", d.Backend.Engine)
	}
	keys := d.Keys
	if len(keys) == 0 {
		key, err := channels.LoadOrCreateKey(filepath.Join(d.Data, MessengerKeyFile))
		if err != nil {
			return nil, nil, err
		}
		keys = []*ecdsa.PrivateKey{key}
	}
	clusters := []consent.Cluster{consent.AccountBasic, consent.Balances, consent.Transactions, consent.Transfers}
	reg := channels.Registration{ID: "messenger", LegalName: "Messenger Platform (demo)",
		LEI: "5493001KJTIIGC8Y1R12", Homepage: "https://messenger.example", SecurityContact: "security@messenger.example",
		RedirectURI: redirect, Signatory: "Platform counsel",
		Purposes: map[consent.Cluster]string{consent.AccountBasic: "name your accounts in the chat", consent.Balances: "answer balance questions in the chat",
			consent.Transactions: "answer questions about your activity and spending in the chat", consent.Transfers: "pay people you saved, after you confirm in the chat"},
	}
	deps := assistant.Deps{Store: d.Backend.Messenger, Ledger: d.Ledger, Consents: d.Consent, BankURL: d.Base, Limits: d.Backend.Limits}
	if d.Answer != nil {
		deps.Answer = d.Answer
	}
	if d.Fraud != nil {
		deps.Fraud = d.Fraud
	}
	if d.Rails != nil {
		deps.Rails = ChatRails{d.Rails}
	}
	a := assistant.New(deps)
	hub := channels.NewHub(channels.HubDeps{Assistant: a, Store: d.Backend.Messenger, Audit: d.Audit, Consents: d.Consent, Logger: d.Log,
		Links: chat, Inbox: chat, InboxWorkers: inboxWorkers(d.Backend.Engine)})
	ad, err := messenger.New(cfg, hub)
	if err != nil {
		return nil, nil, err
	}
	// Before this version the partner was registered with the platform's
	// own redirect (the platform received the OAuth code): such a
	// registration, with this channel's key, is moved to the bank's
	// callback at start rather than turning the channel off.
	reg.Former = ad.PlatformRedirect
	// The key signing now first, then older ones: after a rotation the
	// partner stays registered with its previous key until staff register
	// the new one, and the channel goes on with the key it is registered with.
	var key *ecdsa.PrivateKey
	for i, k := range keys {
		reg.Key = &k.PublicKey
		if _, err = channels.RegisterPartner(ctx, d.Consent, reg); !errors.Is(err, channels.ErrPartnerMismatch) {
			key = k
			if i > 0 && err == nil {
				d.Log.Warn("messenger: the partner is registered with an older key than the one signing now; register its new key",
					"registered", channels.KeyID(&k.PublicKey), "newest", channels.KeyID(&keys[0].PublicKey))
			}
			break
		}
	}
	if errors.Is(err, channels.ErrPartnerMismatch) {
		// The partner was registered for another address (the bank moved to
		// another port or URL) or another key. Its redirect URIs are never
		// changed behind staff's back (but for the platform's redirect of
		// earlier versions, above), so the channel stays off and serve goes on.
		d.Log.Warn("messenger channel off: the messenger partner is registered with other redirect URIs or keys; "+
			"check it with 'bankbridge partner list' and register it again for this address", "redirect", redirect)
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	d.Hook.Set(hub)
	hub.Add(ad, &channels.Client{ID: "messenger", Issuer: d.Base, RedirectURI: redirect, Key: key, Clusters: clusters, DurationDays: 90})
	mounts["/channels/messenger/"] = ad.Handler()
	return mounts, hub, nil
}

// inboxWorkers is how many chat events an instance answers at once: on
// SQLite every write goes through one connection, and more workers only
// lengthen the queue the webhook's own insert waits in; PostgreSQL takes
// them in parallel.
func inboxWorkers(engine string) int {
	if engine == "sqlite" {
		return 8
	}
	return channels.InboxWorkers
}
