// Package platformsim is a local, protocol-faithful emulator of a messaging
// platform (the Messenger Platform's shape), so the whole messenger flow runs
// on one machine and in tests: a server-rendered chat page per simulated
// person (no script), webhooks to the bank signed with the app secret
// (X-Hub-Signature-256) over real HTTP and redelivered when the bank does
// not answer 200, the webhook verification handshake, a Send API that checks
// requests as the platform does (page token, Graph API versions Meta still
// serves, recipient, messaging_type, message tags and the 24-hour and 7-day
// windows, text and template limits, https-only account_link buttons, quick
// replies, 300 calls per second per page answered with error 613), the
// Graph API's account-linking lookup and unlink_accounts, the
// account-linking redirect in its documented form only (redirect_uri with
// the bank's authorization_code appended, which becomes an account_linking
// webhook), and the handover protocol (thread owners, standby events,
// pass/take/request thread control, a live-chat app it plays itself).
// Each rule cites its source where it is enforced; graph_test.go proves them.
//
// It is mountable under a prefix (Options.Prefix) beside the bank, or
// standalone (`bankbridge sim`). It must never import the bank's packages:
// it talks to the bank only over HTTP, as the real platform would. Known
// limits: state is in memory and lost on restart; http account_link URLs
// are accepted on loopback hosts when Options.AllowLoopbackHTTP (the demo's
// exception; the platform takes https only); only text, quick replies
// and button templates are emulated (no attachments, no generic templates,
// no typing indicators); one page.
package platformsim
