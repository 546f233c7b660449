package main

import (
	"context"
	"crypto/ecdsa"
	"maps"
	"net/http"

	"github.com/bankbridge/bankbridge/internal/app"
)

// chatPlatforms wires the chat platforms beyond Messenger into mounts
// (Telegram, WhatsApp; internal/app decides whether each is on) and starts their
// webhooks in the workers group.
func chatPlatforms(ctx context.Context, work *workers, c *app.Config, d app.ChatDeps, keys []*ecdsa.PrivateKey, mounts map[string]http.Handler) error {
	if len(keys) == 0 || d.Hub == nil || mounts == nil {
		if c.Platforms.Telegram() || c.Platforms.WhatsApp() {
			d.Log.Warn("telegram and whatsapp channels off: the messenger channel, whose hub runs the assistant, is off")
		}
		return nil
	}
	d.Key = keys[0]
	tm, start, err := app.TelegramWiring(ctx, d)
	if err != nil {
		return err
	}
	maps.Copy(mounts, tm)
	if start != nil {
		work.Go("telegram webhook", func(ctx context.Context) error { app.StartPlatform(ctx, "telegram", start, d.Log); return nil })
	}
	wm, err := app.WhatsAppWiring(ctx, d)
	if err != nil {
		return err
	}
	maps.Copy(mounts, wm)
	return nil
}
