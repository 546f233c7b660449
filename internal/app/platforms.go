package app

import (
	"fmt"
	"net/url"

	"github.com/bankbridge/bankbridge/channels"
	"github.com/bankbridge/bankbridge/channels/messenger"
	"github.com/bankbridge/bankbridge/channels/telegram"
	"github.com/bankbridge/bankbridge/channels/whatsapp"
)

// Platforms is the configuration of the chat platforms beyond Messenger
// (whose settings are read from BANKBRIDGE_MESSENGER_*): each is on when
// its credentials are given, or when its emulator is asked for (the demo).
type Platforms struct {
	// Telegram: the bot's token from @BotFather; the secret token given to
	// setWebhook (default: derived from the bot token, the same on every
	// instance); the Bot API's base (default https://api.telegram.org);
	// the bot's username (default: asked of getMe); where t.me links
	// point (default https://t.me; an external emulator's, which `bankbridge
	// sim` prints).
	TelegramToken, TelegramSecret, TelegramAPI, TelegramBot, TelegramDeepLink string
	// TelegramSim runs the Telegram emulator inside this process at
	// /sim/telegram/ (the demo; refused in a fleet, as Messenger's).
	TelegramSim bool
	// WhatsApp (Cloud API): the system user's access token, the app
	// secret (signatures), the webhook's verify token, the business phone
	// number's id and its digits (for wa.me links), the Graph API base
	// (without a version) and the version, and the approved utility
	// template for messages outside the 24-hour window.
	WhatsAppToken, WhatsAppAppSecret, WhatsAppVerifyToken, WhatsAppPhoneID, WhatsAppPhone string
	WhatsAppGraphURL, WhatsAppGraphVersion                                                string
	WhatsAppTemplate, WhatsAppTemplateLanguage                                            string
	// WhatsAppClickToChat is where wa.me links point (default
	// https://wa.me; an external emulator's, which `bankbridge sim` prints).
	WhatsAppClickToChat string
	// WhatsAppSim runs the WhatsApp emulator at /sim/whatsapp/ (the demo).
	WhatsAppSim bool
}

// PlatformFlags registers the platforms' settings on fs.
func (c *Config) PlatformFlags(fs EnvFlags) {
	p := &c.Platforms
	fs.String(&p.TelegramToken, "telegram-bot-token", "", "Telegram bot token: turns the Telegram channel on (its webhook is <public-url>/channels/telegram/webhook, set at start)")
	fs.String(&p.TelegramSecret, "telegram-secret-token", "", "secret_token for Telegram's setWebhook, 1-256 of A-Z a-z 0-9 _ - (default: derived from the bot token)")
	fs.String(&p.TelegramAPI, "telegram-api-url", "", "Telegram Bot API base URL (default https://api.telegram.org; an emulator's: bankbridge sim prints it)")
	fs.String(&p.TelegramBot, "telegram-bot-username", "", "the bot's username, for t.me links (default: asked of getMe)")
	fs.String(&p.TelegramDeepLink, "telegram-deep-link-url", "", "where t.me links point (default https://t.me; an external emulator's: bankbridge sim prints it)")
	fs.Bool(&p.TelegramSim, "telegram-sim", false, "run the Telegram emulator inside this process at /sim/telegram/ and turn the channel on against it (demo)")
	fs.String(&p.WhatsAppToken, "whatsapp-access-token", "", "WhatsApp Cloud API access token: turns the WhatsApp channel on (webhook <public-url>/channels/whatsapp/webhook)")
	fs.String(&p.WhatsAppAppSecret, "whatsapp-app-secret", "", "the Meta app's secret, which signs WhatsApp webhooks (X-Hub-Signature-256)")
	fs.String(&p.WhatsAppVerifyToken, "whatsapp-verify-token", "", "the verify token configured with the WhatsApp webhook")
	fs.String(&p.WhatsAppPhoneID, "whatsapp-phone-number-id", "", "the business phone number's id (POST /{phone-number-id}/messages)")
	fs.String(&p.WhatsAppPhone, "whatsapp-phone", "", "the business phone number in international digits, for wa.me links")
	fs.String(&p.WhatsAppGraphURL, "whatsapp-graph-url", channels.DefaultGraphURL, "Graph API base URL, without a version (an emulator's: bankbridge sim prints it)")
	fs.String(&p.WhatsAppGraphVersion, "whatsapp-graph-version", channels.DefaultGraphVersion, "Graph API version called, one Meta still serves")
	fs.String(&p.WhatsAppTemplate, "whatsapp-alert-template", "account_alert", "approved utility template (one body parameter) for messages outside the 24-hour window")
	fs.String(&p.WhatsAppTemplateLanguage, "whatsapp-alert-template-language", "en_US", "the alert template's language code")
	fs.String(&p.WhatsAppClickToChat, "whatsapp-click-to-chat-url", "", "where wa.me links point (default https://wa.me; an external emulator's: bankbridge sim prints it)")
	fs.Bool(&p.WhatsAppSim, "whatsapp-sim", false, "run the WhatsApp emulator inside this process at /sim/whatsapp/ and turn the channel on against it (demo)")
}

// validate reports the platforms' problems.
func (p Platforms) validate() []error {
	var errs []error
	for _, v := range []struct{ flag, env, val string }{
		{"--telegram-api-url", "BANKBRIDGE_TELEGRAM_API_URL", p.TelegramAPI},
		{"--telegram-deep-link-url", "BANKBRIDGE_TELEGRAM_DEEP_LINK_URL", p.TelegramDeepLink},
		{"--whatsapp-click-to-chat-url", "BANKBRIDGE_WHATSAPP_CLICK_TO_CHAT_URL", p.WhatsAppClickToChat},
	} {
		if v.val == "" {
			continue
		}
		if u, err := url.Parse(v.val); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			errs = append(errs, fmt.Errorf("%s (env %s) must be an http(s):// URL", v.flag, v.env))
		}
	}
	if p.TelegramSim && p.TelegramDeepLink != "" {
		errs = append(errs, fmt.Errorf("--telegram-sim runs the emulator here, with its own t.me links: leave --telegram-deep-link-url empty with it"))
	}
	if p.WhatsAppSim && p.WhatsAppClickToChat != "" {
		errs = append(errs, fmt.Errorf("--whatsapp-sim runs the emulator here, with its own wa.me links: leave --whatsapp-click-to-chat-url empty with it"))
	}
	if p.TelegramSim && p.TelegramToken != "" && p.TelegramAPI != "" {
		errs = append(errs, fmt.Errorf("--telegram-sim runs the emulator here: leave --telegram-api-url empty with it"))
	}
	if (p.TelegramSecret != "" || p.TelegramAPI != "" || p.TelegramBot != "" || p.TelegramDeepLink != "") && p.TelegramToken == "" && !p.TelegramSim {
		errs = append(errs, fmt.Errorf("--telegram-* settings are given without --telegram-bot-token (env BANKBRIDGE_TELEGRAM_BOT_TOKEN)"))
	}
	if p.WhatsAppToken != "" && !p.WhatsAppSim {
		var missing []string
		for _, v := range []struct{ flag, val string }{{"--whatsapp-app-secret", p.WhatsAppAppSecret}, {"--whatsapp-verify-token", p.WhatsAppVerifyToken},
			{"--whatsapp-phone-number-id", p.WhatsAppPhoneID}, {"--whatsapp-phone", p.WhatsAppPhone}} {
			if v.val == "" {
				missing = append(missing, v.flag)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("--whatsapp-access-token needs %v too", missing))
		}
		if err := channels.CheckGraph(p.WhatsAppGraphURL, p.WhatsAppGraphVersion, "--whatsapp-graph-url (env BANKBRIDGE_WHATSAPP_GRAPH_URL)", "--whatsapp-graph-version (env BANKBRIDGE_WHATSAPP_GRAPH_VERSION)"); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// WhatsApp reports whether the WhatsApp channel is on.
func (p Platforms) WhatsApp() bool { return p.WhatsAppToken != "" || p.WhatsAppSim }

// Telegram reports whether the Telegram channel is on.
func (p Platforms) Telegram() bool { return p.TelegramToken != "" || p.TelegramSim }

// Webhooks are the bank's webhook URLs at base, for `bankbridge sim`.
func Webhooks(base string) (messengerHook, telegramHook, whatsappHook string) {
	return base + messenger.PathWebhook, base + telegram.PathWebhook, base + whatsapp.PathWebhook
}
