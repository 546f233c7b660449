package app

import (
	"strings"
	"testing"
)

// TestConfigPlatforms: Telegram and WhatsApp are off by default, on with
// their credentials (flags or BANKBRIDGE_TELEGRAM_* / _WHATSAPP_*) or their
// emulators, and half a configuration is refused naming what is missing.
func TestConfigPlatforms(t *testing.T) {
	t.Parallel()
	c, err := loadServe(nil)
	if err != nil || c.Platforms.Telegram() || c.Platforms.WhatsApp() {
		t.Fatalf("defaults: telegram %v, whatsapp %v, %v", c.Platforms.Telegram(), c.Platforms.WhatsApp(), err)
	}
	c, err = loadServe(map[string]string{"BANKBRIDGE_TELEGRAM_BOT_TOKEN": "123:ABC", "BANKBRIDGE_TELEGRAM_API_URL": "https://tg.example"})
	if err != nil || !c.Platforms.Telegram() || c.Platforms.TelegramToken != "123:ABC" || c.Platforms.TelegramAPI != "https://tg.example" {
		t.Errorf("telegram from env: %+v, %v", c.Platforms, err)
	}
	c, err = loadServe(nil, "--telegram-sim", "--whatsapp-sim")
	if err != nil || !c.Platforms.Telegram() || !c.Platforms.WhatsApp() {
		t.Errorf("emulators: %+v, %v", c.Platforms, err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"TelegramAPINotAURL", []string{"--telegram-bot-token", "1:A", "--telegram-api-url", "api.telegram.org"}, "--telegram-api-url"},
		{"TelegramSettingsWithoutToken", []string{"--telegram-secret-token", "s"}, "without --telegram-bot-token"},
		{"DeepLinkNotAURL", []string{"--telegram-bot-token", "1:A", "--telegram-deep-link-url", "t.me"}, "--telegram-deep-link-url"},
		{"DeepLinkWithTheEmbeddedSim", []string{"--telegram-sim", "--telegram-deep-link-url", "https://sim.example/telegram/t.me"}, "leave --telegram-deep-link-url empty"},
		{"ClickToChatNotAURL", []string{"--whatsapp-sim", "--whatsapp-click-to-chat-url", "wa.me"}, "--whatsapp-click-to-chat-url"},
		{"WhatsAppGraphURLWithAVersion", []string{"--whatsapp-access-token", "t", "--whatsapp-app-secret", "s", "--whatsapp-verify-token", "v",
			"--whatsapp-phone-number-id", "1", "--whatsapp-phone", "2", "--whatsapp-graph-url", "https://graph.facebook.com/v23.0"}, "--whatsapp-graph-version"},
		{"WhatsAppHalfConfigured", []string{"--whatsapp-access-token", "t", "--whatsapp-app-secret", "s"}, "--whatsapp-verify-token"},
	} {
		_, err := loadServe(nil, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.want)
		}
	}
}
