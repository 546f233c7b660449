// Package messenger is the Messenger Platform channel: the webhook at
// /channels/messenger/webhook (the hub.mode / hub.verify_token /
// hub.challenge handshake on GET; on POST, X-Hub-Signature-256, the
// HMAC-SHA256 of the raw body under the app secret, compared in constant
// time and checked before anything is parsed), its events (messages, quick
// replies, postbacks, account_linking linked/unlinked), the account-link
// entry at /channels/messenger/link, and a Send API client (messaging_type
// RESPONSE, UPDATE or MESSAGE_TAG with ACCOUNT_UPDATE outside the 24-hour
// window and HUMAN_AGENT for staff up to 7 days; quick replies; button
// templates with web_url, postback and account_link buttons) paced by a
// Pacer (golang.org/x/time/rate in memory by default; an abandoned wait
// gives its turn back), bounded retries and exponential backoff on the platform's
// transient and throttling errors.
//
// It must never import a store, web or another edge, and never send data
// itself: every reply comes through channels.Hub, which audits it first.
// Known limits: text only (attachments are acknowledged, not read); one
// page per bank; the send budget is per instance unless Config.Pacer is
// shared; replies longer than the platform's limits are clipped.
package messenger
