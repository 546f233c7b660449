package inbox

import (
	"context"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
)

// Event is one platform event waiting in the inbox.
type Event struct {
	ID       int64  // the inbox's sequence: the order of processing within a conversation
	Platform string // "messenger"
	// Conversation is the platform's id of the person: events of one
	// conversation are processed one at a time, in the order they came.
	Conversation string
	// EventID is the platform's id of the event (Messenger: "mid:<mid>"):
	// the inbox keeps one event per platform and id.
	EventID  string
	Body     []byte // the event as the channel will read it back (its own JSON)
	Received time.Time
	Attempts int // claims so far, this one included
}

// Store stores inbound events durably until they are processed.
type Store interface {
	// Enqueue stores events in one transaction, skipping any whose
	// platform and event id the inbox holds already, and reports how many
	// were new.
	Enqueue(ctx context.Context, evs []Event) (int, error)
	// Claim leases to owner, until now+lease, up to limit events that are
	// each the oldest unprocessed event of their conversation and not
	// leased (or whose lease ran out: an instance died holding it). Of
	// concurrent claimers each event goes to one.
	Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, limit int) ([]Event, error)
	// Done marks an event processed at at; failure, when not empty, says
	// why it was given up.
	Done(ctx context.Context, id int64, at time.Time, failure string) error
	// Purge deletes events processed before before, and reports how many.
	Purge(ctx context.Context, before time.Time) (int, error)
}

// LinkAttempt is one record of an account linking in progress.
type LinkAttempt struct {
	Platform string
	ID       string // "state:<state>" or "code:<sha-256 of the authorization_code, hex>"
	User     string // the platform's id of the person being linked
	// Verifier is the PKCE code_verifier (attempts); RedirectURI the
	// platform's redirect_uri to send the browser back to.
	Verifier    string
	RedirectURI string
	// Grant is the consent the authorization_code stands for (codes).
	Grant   consent.GrantID
	Expires time.Time
}

// LinkAttempts stores linkings in progress.
type LinkAttempts interface {
	// SaveLinkAttempt stores a, replacing one of the same platform and ID.
	SaveLinkAttempt(ctx context.Context, a LinkAttempt) error
	// TakeLinkAttempt deletes and returns the record of platform and id in
	// one step, so that of concurrent callers one gets it;
	// ErrLinkAttempt when there is none or it expired before now.
	TakeLinkAttempt(ctx context.Context, platform, id string, now time.Time) (LinkAttempt, error)
}

// ErrLinkAttempt reports a linking the bank has no record of: never
// started, already finished, or expired.
var ErrLinkAttempt = bankbridge.E(bankbridge.NotFound, "chat_link_expired", "the account linking expired or was already used; start it again from the chat")
