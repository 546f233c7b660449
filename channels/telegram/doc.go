// Package telegram is the Telegram Bot API channel, the second adapter
// behind channels.Channel: the webhook at /channels/telegram/webhook
// checks X-Telegram-Bot-Api-Secret-Token (the secret_token given to
// setWebhook) in constant time before anything is parsed, drops redelivered
// updates by update_id, turns messages and inline-keyboard callback queries
// into assistant messages, and sends replies with sendMessage and an inline
// keyboard (callback buttons for choices, URL buttons for the bank's
// pages), retrying 429 (after retry_after) and server errors a bounded
// number of times.
//
// It must never import a store, web or another edge. Known limits: Telegram
// has no account-linking protocol, so this adapter does not link accounts
// yet (a chat stays unlinked and the assistant discloses nothing in it; the
// link button is rendered as a note); no 24-hour window exists on Telegram,
// so every purpose is sent the same way; text only.
package telegram
