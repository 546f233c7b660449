// Package channels connects messaging platforms to the assistant. It holds
// the Channel interface every platform adapter implements (channels/messenger,
// channels/telegram, channels/whatsapp), the Hub that joins them to package assistant, and the
// OAuth client (Client) through which a channel, acting as the platform
// partner's back end, links a platform user to a customer via the bank's
// own authorization server: PAR, PKCE, private_key_jwt and DPoP, like any
// partner, over HTTP. Tickets signs the self-contained link tickets and
// states of platforms without a linking protocol; DeriveKey gives each
// platform partner its key from the keyring's messenger key; Engagement
// tells the reports of every message a linked customer wrote.
//
// With an Inbox (HubDeps.Inbox, package channels/inbox) a channel's webhook
// answers as soon as its events are stored (Hub.Accept, with a group commit
// of concurrent webhooks), and Hub.RunInbox, one per instance, answers them:
// one event at a time per conversation, in arrival order, on whichever
// instance claims it, an instance that dies giving its events up when their
// lease runs out. BeginLink, FinishLink and RedeemLink carry a platform's
// own account-linking protocol (Messenger's redirect_uri and
// authorization_code) over HubDeps.Links.
//
// What the Hub guarantees: an inbound event is handled once (its id is
// recorded durably; a redelivery is dropped); every reply carrying customer
// data is appended to the audit log as a PlatformMessage disclosure to the
// platform's partner, and only once that record is durable is the reply
// sent (a send that then fails is recorded again as Failed); a link exists
// only under an active consent, and when that consent is revoked or expires
// (Connected apps, staff, the chat, the platform's unlink event) the link is
// removed at once (Hub.ConsentEvent is a consent.Hook) and the platform is
// told.
//
// It must never import a store, the web package or another edge; it moves
// no money itself (the assistant does, through ledger.Service). The OAuth
// client's DPoP key is derived from the partner key, so that any instance
// of a fleet redeems a code another pushed; tokens are not kept. Known
// limits: alerts
// (Hub.Alert) are sent one link at a time with the channel's own retries.
package channels
