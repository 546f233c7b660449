package app

import (
	"cmp"
	"context"
	"errors"
	"net/http"

	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/whatsapp"
	"github.com/bankbridge/bankbridge/platformsim"
)

// Demo values of the embedded WhatsApp emulator: both sides must agree.
const (
	DemoWhatsAppToken       = "demo-whatsapp-access-token"
	DemoWhatsAppAppSecret   = "demo-whatsapp-app-secret"
	DemoWhatsAppVerifyToken = "demo-whatsapp-verify-token"
)

// WhatsAppWiring turns the WhatsApp channel on when configured
// (Platforms.WhatsApp): the "whatsapp" partner registered idempotently with
// a key derived from the messenger partner's, the adapter added to the hub
// with its OAuth client, and, with WhatsAppSim, the emulator mounted at
// /sim/whatsapp/ (its webhook this bank's, its templates the bank's alert
// template, approved). It returns the handlers to mount; nothing when the
// channel or the hub is off.
func WhatsAppWiring(ctx context.Context, d ChatDeps) (map[string]http.Handler, error) {
	p := d.Config
	if !p.WhatsApp() {
		return nil, nil
	}
	if d.Hub == nil {
		d.Log.Warn("whatsapp channel off: the chat hub is off on this instance (see the messenger channel's warning)")
		return nil, nil
	}
	mounts := map[string]http.Handler{}
	cfg := whatsapp.Config{AccessToken: p.WhatsAppToken, AppSecret: p.WhatsAppAppSecret, VerifyToken: p.WhatsAppVerifyToken,
		PhoneNumberID: p.WhatsAppPhoneID, DisplayPhone: p.WhatsAppPhone, GraphURL: p.WhatsAppGraphURL, GraphVersion: p.WhatsAppGraphVersion, ClickToChatURL: p.WhatsAppClickToChat, BankURL: d.Base,
		AlertTemplate: p.WhatsAppTemplate, AlertLanguage: p.WhatsAppTemplateLanguage, Logger: d.Log}
	if d.Backend.RateLimits != nil {
		cfg.Turns = d.Backend.RateLimits // the number's throughput, for the fleet
	}
	if p.WhatsAppSim {
		if d.Fleet {
			return nil, UsageError("whatsapp: --whatsapp-sim would start a WhatsApp emulator inside every instance of this fleet, each with its own chats; run the emulator once for the fleet ('bankbridge sim') and point every instance at it with the settings it prints (--whatsapp-access-token, --whatsapp-graph-url, --whatsapp-click-to-chat-url, ...), or at the Cloud API; or pass --embedded-sim for a fleet of one")
		}
		cfg.AccessToken = cmp.Or(cfg.AccessToken, DemoWhatsAppToken)
		cfg.AppSecret = cmp.Or(cfg.AppSecret, DemoWhatsAppAppSecret)
		cfg.VerifyToken = cmp.Or(cfg.VerifyToken, DemoWhatsAppVerifyToken)
		cfg.AlertTemplate, cfg.AlertLanguage = cmp.Or(cfg.AlertTemplate, "account_alert"), cmp.Or(cfg.AlertLanguage, "en_US")
		sim := platformsim.NewWhatsApp(platformsim.WhatsAppOptions{Prefix: "/sim/whatsapp", BaseURL: d.Base + "/sim/whatsapp",
			WebhookURL: d.Base + whatsapp.PathWebhook, AccessToken: cfg.AccessToken, AppSecret: cfg.AppSecret, VerifyToken: cfg.VerifyToken,
			Templates: map[string]platformsim.WhatsAppTemplate{cfg.AlertTemplate: {Language: cfg.AlertLanguage, Category: "UTILITY", Status: "APPROVED", BodyParams: 1}},
			Logger:    d.Log})
		cfg.GraphURL, cfg.ClickToChatURL = sim.GraphURL(), sim.ClickToChatURL()
		cfg.PhoneNumberID, cfg.DisplayPhone = sim.PhoneNumberID(), sim.DisplayPhone()
		mounts["/sim/whatsapp/"] = sim.Handler()
	}
	key, err := channels.DeriveKey(d.Key, "whatsapp")
	if err != nil {
		return nil, err
	}
	ad, err := whatsapp.New(cfg, d.Hub)
	if err != nil {
		return nil, UsageError(err.Error())
	}
	reg := channels.Registration{ID: "whatsapp", LegalName: "WhatsApp channel of the bank (demo)", LEI: "5493001KJTIIGC8Y1W94",
		Homepage: "https://www.whatsapp.com", SecurityContact: "security@whatsapp.example", RedirectURI: ad.RedirectURI(),
		Signatory: "Platform counsel", Key: &key.PublicKey, Purposes: chatPurposes}
	if _, err := channels.RegisterPartner(ctx, d.Consent, reg); errors.Is(err, channels.ErrPartnerMismatch) {
		d.Log.Warn("whatsapp channel off: the whatsapp partner is registered with other redirect URIs or keys; "+
			"check it with 'bankbridge partner list' and register it again for this address", "redirect", reg.RedirectURI)
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	d.Hub.Add(ad, &channels.Client{ID: "whatsapp", Issuer: d.Base, RedirectURI: ad.RedirectURI(), Key: key, Clusters: chatClusters, DurationDays: 90})
	mounts["/channels/whatsapp/"] = ad.Handler()
	return mounts, nil
}
