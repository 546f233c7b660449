package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/bankbridge/bankbridge/backoff"
	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/telegram"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/platformsim"
)

// DemoTelegramToken is the bot token of the embedded Telegram emulator.
const DemoTelegramToken = "123456789:demo-telegram-bot-token"

// ChatDeps is what a chat platform beyond Messenger needs from serve.
type ChatDeps struct {
	Config  Platforms
	Base    string            // the bank's public base URL
	Key     *ecdsa.PrivateKey // the keyring's messenger partner key, from which the platform's partner key is derived
	Backend *Backend
	Consent *consent.Service
	Hub     *channels.Hub // the messenger wiring's hub, which runs the assistant
	Log     *slog.Logger
	// Fleet refuses the embedded emulator, as for Messenger.
	Fleet bool
}

// chatClusters is what linking a chat asks the customer for.
var chatClusters = []consent.Cluster{consent.AccountBasic, consent.Balances, consent.Transactions, consent.Transfers}

var chatPurposes = map[consent.Cluster]string{consent.AccountBasic: "name your accounts in the chat", consent.Balances: "answer balance questions in the chat",
	consent.Transactions: "answer questions about your activity and spending in the chat", consent.Transfers: "pay people you saved, after you confirm in the chat"}

// TelegramWiring turns the Telegram channel on when configured
// (Platforms.Telegram): the "telegram" partner registered idempotently with
// a key derived from the messenger partner's, the adapter added to the hub
// with its OAuth client, and, with TelegramSim, the emulator mounted at
// /sim/telegram/. It returns the handlers to mount and the function that
// sets the webhook (run it once the server listens; it calls the Bot API).
// Nothing when the channel is off, or when the hub is (Messenger's wiring
// runs the assistant).
func TelegramWiring(ctx context.Context, d ChatDeps) (map[string]http.Handler, func(context.Context) error, error) {
	p := d.Config
	if !p.Telegram() {
		return nil, nil, nil
	}
	if d.Hub == nil {
		d.Log.Warn("telegram channel off: the chat hub is off on this instance (see the messenger channel's warning)")
		return nil, nil, nil
	}
	mounts := map[string]http.Handler{}
	cfg := telegram.Config{BotToken: p.TelegramToken, SecretToken: p.TelegramSecret, APIURL: p.TelegramAPI, BotUsername: p.TelegramBot,
		DeepLinkURL: p.TelegramDeepLink, BankURL: d.Base, Logger: d.Log}
	if d.Backend.RateLimits != nil {
		cfg.Turns = d.Backend.RateLimits // the bot's send limits, for the fleet
	}
	if p.TelegramSim {
		if d.Fleet {
			return nil, nil, UsageError("telegram: --telegram-sim would start a Telegram emulator inside every instance of this fleet, each with its own chats; run the emulator once for the fleet ('bankbridge sim') and point every instance at it with the settings it prints (--telegram-bot-token, --telegram-api-url, --telegram-deep-link-url), or at the Bot API; or pass --embedded-sim for a fleet of one")
		}
		if cfg.BotToken == "" {
			cfg.BotToken = DemoTelegramToken
		}
		sim := platformsim.NewTelegram(platformsim.TelegramOptions{Prefix: "/sim/telegram", BaseURL: d.Base + "/sim/telegram", BotToken: cfg.BotToken, Logger: d.Log})
		cfg.APIURL, cfg.DeepLinkURL = sim.APIURL(), sim.DeepLinkURL()
		mounts["/sim/telegram/"] = sim.Handler()
	}
	if cfg.SecretToken == "" {
		cfg.SecretToken = derivedSecret(cfg.BotToken, "telegram secret_token")
	}
	key, err := channels.DeriveKey(d.Key, "telegram")
	if err != nil {
		return nil, nil, err
	}
	ad, err := telegram.New(cfg, d.Hub)
	if err != nil {
		return nil, nil, UsageError(err.Error())
	}
	reg := channels.Registration{ID: "telegram", LegalName: "Telegram bot of the bank (demo)", LEI: "5493001KJTIIGC8Y1T06",
		Homepage: "https://telegram.org", SecurityContact: "security@telegram.example", RedirectURI: ad.RedirectURI(),
		Signatory: "Platform counsel", Key: &key.PublicKey, Purposes: chatPurposes}
	if _, err := channels.RegisterPartner(ctx, d.Consent, reg); errors.Is(err, channels.ErrPartnerMismatch) {
		d.Log.Warn("telegram channel off: the telegram partner is registered with other redirect URIs or keys; "+
			"check it with 'bankbridge partner list' and register it again for this address", "redirect", reg.RedirectURI)
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	d.Hub.Add(ad, &channels.Client{ID: "telegram", Issuer: d.Base, RedirectURI: ad.RedirectURI(), Key: key, Clusters: chatClusters, DurationDays: 90})
	mounts["/channels/telegram/"] = ad.Handler()
	return mounts, ad.Start, nil
}

// derivedSecret derives a webhook secret from a platform credential, so
// that every instance of a fleet, given the credential, agrees on it
// without one more setting: hex, 32 characters of HMAC-SHA256.
func derivedSecret(credential, label string) string {
	m := hmac.New(sha256.New, []byte(credential))
	m.Write([]byte("bankbridge " + label))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// StartPlatform runs a chat platform's start (Telegram: getMe and
// setWebhook) until it succeeds or ctx ends, with the one backoff: the
// platform (or the embedded emulator, which answers only once this server
// serves) may be away at first. Each instance of a fleet sets the same
// webhook; the platform keeps one.
func StartPlatform(ctx context.Context, name string, start func(context.Context) error, log *slog.Logger) {
	p := backoff.Policy{Base: time.Second, Max: 5 * time.Minute}
	for attempt := 1; ; attempt++ {
		err := start(ctx)
		if err == nil {
			log.Info(name+": webhook set", "attempts", attempt)
			return
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn(name+": could not set the webhook; trying again", "attempt", attempt, "err", err)
		if backoff.Sleep(ctx, p.Delay(attempt)) != nil {
			return
		}
	}
}
