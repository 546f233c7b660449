// Package telegram is the Telegram Bot API channel, an adapter behind
// channels.Channel. The webhook at /channels/telegram/webhook checks
// X-Telegram-Bot-Api-Secret-Token (the secret_token the adapter gives
// setWebhook in Start) in constant time before anything is parsed, drops
// aged updates by date, stores the others in the hub's durable inbox (one
// per update_id) and answers 200; the inbox worker then hands each to
// Process, in order per chat, on any instance, which turns messages and
// inline-keyboard callback queries into assistant messages and sends
// replies with sendMessage and an inline keyboard (callback buttons for
// choices, URL buttons for the bank's pages and for linking).
//
// Sending keeps to the Bot FAQ's limits (one message a second per chat,
// about thirty a second for the bot) with x/time/rate buckets, or the
// fleet's shared budgets (Turns); a 429 pauses its chat for exactly
// parameters.retry_after and the message is retried then, or refused with
// ErrThrottled when that is longer than MaxWait - never retried early.
//
// Accounts are linked through the bot's deep link (link.go): link button ->
// the bank's login and consent for the "telegram" partner -> the partner's
// redirect (PathLinked) -> t.me/<bot>?start=<authorization code> -> the
// bot receives "/start <code>" and redeems it with the PKCE verifier kept
// for that chat, so a code opened in any other chat links nothing.
//
// It must never import a store, web or another edge. Known limits: the
// per-chat pause after a 429 is in this instance's memory (another instance
// learns it from its own 429); no 24-hour window exists on Telegram, so
// every purpose is sent the same way; text only; group chats are ignored.
package telegram
