// Package platformsim is a local, protocol-faithful emulator of a messaging
// platform (the Messenger Platform's shape), so the whole messenger flow runs
// on one machine and in tests: a server-rendered chat page per simulated
// person (no script), webhooks to the bank signed with the app secret
// (X-Hub-Signature-256) over real HTTP and redelivered when the bank does
// not answer 200, the webhook verification handshake, a Send API that checks
// requests as the platform does (page token, recipient, messaging_type,
// message tags and the 24-hour and 7-day windows, text and template limits,
// quick replies, a per-page call rate answered with error 613), the Graph
// API's account-linking lookup and unlink_accounts, and the account-linking
// redirect that turns the bank's authorization code into an
// account_linking webhook.
//
// It is mountable under a prefix (Options.Prefix) beside the bank, or
// standalone (`bankbridge sim`). It must never import the bank's packages:
// it talks to the bank only over HTTP, as the real platform would. Known
// limits: state is in memory and lost on restart; only text, quick replies
// and button templates are emulated (no attachments, no generic templates,
// no typing indicators); one page.
package platformsim
