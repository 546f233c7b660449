// Package whatsapp is the WhatsApp Business Platform (Cloud API) channel,
// an adapter behind channels.Channel.
//
// What it owns: the webhook at /channels/whatsapp/webhook - the
// verification request (hub.mode, hub.verify_token, hub.challenge) and
// notifications signed with X-Hub-Signature-256 (HMAC-SHA256 of the raw
// body with the app secret, checked in constant time before anything is
// parsed), read only for the configured phone number id; incoming text,
// reply-button and list replies are stored in the hub's durable inbox, each
// once (by its wamid) and only while fresh, before the 200; the inbox
// worker hands them to Process, in order per person, on any instance, and
// they become assistant messages. Replies go out through the Graph API's
// POST /{version}/{phone-number-id}/messages (the version a setting,
// channels.DefaultGraphVersion by default): text, interactive reply buttons (at most
// three) or a list (more choices), and a call-to-action URL button for the
// bank's pages and for linking. The 24-hour customer service window is
// kept: inside it anything may be sent; outside it only an approved
// utility template (the bank's alert template, Config.AlertTemplate), and
// an answer or a staff message is refused with channels.ErrWindowClosed. A
// template the platform refuses (missing, paused, not approved, wrong
// parameters) is ErrTemplateRejected, logged with Meta's code.
//
// Accounts are linked through the bank's login (link.go): the CTA button
// opens PathLink with a signed ticket naming the wa_id, the bank's login and
// consent for the "whatsapp" partner follow, and the partner's redirect
// (PathLinked) sends the browser to WhatsApp's click-to-chat link
// (wa.me/<number>?text=...) with the authorization code in a message the
// person sends; the code is redeemed with the PKCE verifier kept for the
// sender's wa_id only, so the link binds the wa_id that asked and a link
// opened by anyone else links nothing.
//
// Sending keeps to the number's throughput (80 messages a second) with
// x/time/rate, or the fleet's shared budgets (Turns).
//
// It must never import a store, web or another edge. Known limits: the
// pair rate limit (131056) is met by retrying, not paced; delivery status notifications are not read; text and
// interactive messages only (no media).
package whatsapp
