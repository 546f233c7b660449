// Package messenger is the Messenger Platform channel: the webhook at
// /channels/messenger/webhook (the hub.mode / hub.verify_token /
// hub.challenge handshake on GET; on POST, X-Hub-Signature-256, the
// HMAC-SHA256 of the raw body under the app secret, compared in constant
// time and checked before anything is parsed, then the events stored in
// the hub's inbox and 200 answered; Process answers them later), its
// events (messages, quick replies, postbacks, account_linking
// linked/unlinked, the handover protocol's messaging_handovers and standby
// events), Meta's account linking (the entry at /channels/messenger/link,
// which takes the platform's redirect_uri and account_linking_token, and
// the bank's own OAuth redirect at /channels/messenger/link/callback, which
// sends the browser back to the platform with an authorization_code), the
// handover protocol (pass_thread_control to a live-chat app, taking the
// conversation back when it passes the thread back), and a Send API client
// at a configured Graph API version (messaging_type RESPONSE, UPDATE or
// MESSAGE_TAG: ACCOUNT_UPDATE outside the 24-hour window only for
// non-recurring account changes, HUMAN_AGENT for staff up to 7 days; quick
// replies; button templates with web_url, postback and account_link
// buttons) paced by a Pacer (golang.org/x/time/rate in memory by default;
// an abandoned wait gives its turn back), bounded retries and exponential
// backoff on the platform's transient and throttling errors.
// docs/messenger.md has a table of each platform rule, its source, where it
// is enforced here, and the test that proves it.
//
// It must never import a store, web or another edge, and never send data
// itself: every reply comes through channels.Hub, which audits it first.
// Known limits: text only (attachments are acknowledged, not read); one
// page per bank; the send budget is per instance unless Config.Turns (or
// a Pacer) is shared, as it is on PostgreSQL; replies longer than the
// platform's limits are clipped; a reply the send budget cannot fit within
// MaxWait is dropped (the event is done; the person may write again);
// standby events are not answered nor kept in the transcript.
package messenger
