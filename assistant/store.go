package assistant

import (
	"context"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/ledger"
)

// Key names one conversation: a platform ("messenger", "telegram") and the
// platform's id of the person (a page-scoped id, a chat id). The id is the
// platform's, opaque to the bank.
type Key struct {
	Platform string
	User     string
}

// Link ties a platform user to a customer through the consent the customer
// gave the platform's partner. Without a Link, or with its consent ended,
// the assistant discloses nothing.
type Link struct {
	Key
	Customer bankbridge.CustomerID
	Grant    consent.GrantID
	Linked   time.Time
}

// PendingLink is an account linking in progress: the PKCE verifier the
// channel will need to redeem the code the platform passes back. It lives a
// few minutes and is taken once.
type PendingLink struct {
	Key
	Verifier string
	Expires  time.Time
}

// Mode says who answers a conversation.
type Mode string

// The modes: the assistant, or a person in the bank's staff inbox.
const (
	ModeBot   Mode = "bot"
	ModeHuman Mode = "human"
)

// Pending is an action waiting for the customer's explicit confirmation:
// a payment, a transfer between the customer's own accounts, freezing or
// unfreezing cards, or reporting a card payment as fraud. Key is the
// ledger idempotency key minted when the confirmation was asked, so a
// confirmation that arrives twice books one transfer. Once carried out it
// stays, Done, until the next request: a confirmation that arrives again
// is answered with what was done, not with "nothing waiting".
type Pending struct {
	ID       string // random; the quick reply's payload names it
	Action   IntentKind
	From     ledger.AccountID
	To       ledger.AccountID
	Amount   ledger.Amount
	Currency ledger.Currency
	Payee    string    // as the customer knows them: "Sam"
	Saved    time.Time // when the payee was saved: starts its cooling-off (package limits)
	// External is the payee at another bank a Pay goes to (To is then its
	// limits id, the payee id negated); 0 for a payee with an account here.
	External ledger.PayeeID `json:",omitempty"`
	Memo     string
	Cards    []ledger.CardID
	Key      string
	Expires  time.Time
	Transfer ledger.TransferID // Fraud: the card payment reported
	Reason   string            // FreezeCard: "lost", "stolen" or ""
	// Terms is a Collect's authorisation as the confirmation showed it:
	// what the customer agrees to by confirming, recorded with the debit.
	Terms string `json:",omitempty"`
	Done     bool              // carried out; Result says what came of it
	Result   string            // Pay, Transfer: the ledger reference; Fraud: the case
}

// Conversation is what the assistant remembers of one conversation.
type Conversation struct {
	Key
	Mode     Mode
	Pending  *Pending
	LastIn   time.Time // the person's last message: opens the platform's 24-hour window
	LastOut  time.Time
	HandedAt time.Time // when it went to a person; zero in bot mode
	Updated  time.Time
}

// waiting returns the action waiting for a confirmation, nil when none
// is (or the last one was carried out).
func (c *Conversation) waiting() *Pending {
	if c.Pending == nil || c.Pending.Done {
		return nil
	}
	return c.Pending
}

// Direction says who wrote a message of the transcript.
type Direction string

// The directions.
const (
	In  Direction = "in"  // the person on the platform
	Out Direction = "out" // the assistant or staff
)

// Message is one line of a conversation's transcript, which staff read in
// the inbox. Author is "assistant", "staff:12" or "" for the person.
type Message struct {
	Key
	At     time.Time
	Dir    Direction
	Author string
	Text   string
}

// PrivacyMode is how much a reply on a platform may show.
type PrivacyMode string

// The privacy modes. Minimal is the default for platforms.
const (
	PrivacyFull    PrivacyMode = "full"    // amounts and merchants in the chat
	PrivacyMinimal PrivacyMode = "minimal" // the chat says the answer is ready and links to the bank's page
	PrivacyOff     PrivacyMode = "off"     // the chat never discusses accounts
)

// Valid reports whether m is a known mode.
func (m PrivacyMode) Valid() bool { return m == PrivacyFull || m == PrivacyMinimal || m == PrivacyOff }

// Settings are a customer's preferences for platforms.
type Settings struct {
	Customer bankbridge.CustomerID
	Privacy  PrivacyMode
	// Alerts says whether alerts (large debits, low balance, suspicious
	// payments) may be sent to the customer's linked platforms.
	Alerts bool
	// Language is the language the customer chose for replies, buttons and
	// alerts on platforms; "" until they choose.
	Language Language
	Updated  time.Time
}

// DefaultSettings are a customer's settings until they change them.
func DefaultSettings(c bankbridge.CustomerID) Settings {
	return Settings{Customer: c, Privacy: PrivacyMinimal, Alerts: true}
}

// Store keeps links, conversations, transcripts, settings and the record of
// inbound events already handled. Implementations live in store/sqlite and
// store/postgres and pass one suite (store/storetest.Messenger).
//
// Contract: times are kept to the microsecond; unknown keys answer the
// NotFound error named on each method; driver errors are wrapped, never
// shown.
type Store interface {
	// SaveLink stores l, replacing any link of the same key.
	SaveLink(ctx context.Context, l Link) error
	// Link returns the link of k; ErrNotLinked.
	Link(ctx context.Context, k Key) (Link, error)
	// DeleteLink removes the link of k and reports whether there was one.
	DeleteLink(ctx context.Context, k Key) (bool, error)
	// LinksByGrant lists the links made under a consent.
	LinksByGrant(ctx context.Context, g consent.GrantID) ([]Link, error)
	// LinksByCustomer lists a customer's links, oldest first.
	LinksByCustomer(ctx context.Context, c bankbridge.CustomerID) ([]Link, error)

	// SavePendingLink stores p, replacing any pending link of the same key.
	SavePendingLink(ctx context.Context, p PendingLink) error
	// TakePendingLink deletes and returns the pending link of k atomically:
	// of concurrent callers one gets it. ErrNoPendingLink when there is
	// none or it expired before now.
	TakePendingLink(ctx context.Context, k Key, now time.Time) (PendingLink, error)

	// FirstDelivery records an inbound event id of a platform and reports
	// whether it is new: false means a redelivery, to be ignored. Ids
	// older than keep may be forgotten.
	FirstDelivery(ctx context.Context, platform, id string, at time.Time, keep time.Duration) (bool, error)
	// ForgetDelivery removes a recorded id, so that the next FirstDelivery
	// of it is first again: for outbound messages whose send failed and
	// must be retried. Forgetting an unknown id is not an error.
	ForgetDelivery(ctx context.Context, platform, id string) error
	// ClaimSend claims the send of a bank-started message id (an alert to
	// a chat) at now: SendClaimed when no one claimed it yet or the
	// claim of someone else is older than lease (its instance died
	// mid-send), SendInFlight while another claim is younger, SendDone
	// once SentDelivery recorded the send.
	ClaimSend(ctx context.Context, platform, id string, now time.Time, lease time.Duration) (SendClaim, error)
	// SentDelivery records that the claimed send of id went out.
	SentDelivery(ctx context.Context, platform, id string) error

	// Conversation returns the conversation of k; ErrNoConversation.
	Conversation(ctx context.Context, k Key) (Conversation, error)
	// SaveConversation stores c, replacing the one of the same key.
	SaveConversation(ctx context.Context, c Conversation) error
	// HandedOver lists conversations in ModeHuman, longest waiting first.
	HandedOver(ctx context.Context, limit int) ([]Conversation, error)

	// AppendMessage adds m to its conversation's transcript.
	AppendMessage(ctx context.Context, m Message) error
	// Messages returns the last limit messages of k, oldest first.
	Messages(ctx context.Context, k Key, limit int) ([]Message, error)

	// Settings returns the customer's settings; DefaultSettings when they
	// never changed them.
	Settings(ctx context.Context, c bankbridge.CustomerID) (Settings, error)
	// SaveSettings stores s.
	SaveSettings(ctx context.Context, s Settings) error
}

// Languages keeps the one language a customer chose, for the assistant's
// replies, the web app and the bank's e-mails alike: one column
// (chat_settings.language) read and written by chat, web and mail, so that a
// choice made in one is the choice in all. *sqlstore.MessengerStore
// implements it; store/storetest.Messenger proves it on both engines.
type Languages interface {
	// Language is the customer's chosen language; "" when they never chose.
	Language(ctx context.Context, c bankbridge.CustomerID) (Language, error)
	// SetLanguage stores l ("" forgets the choice) and leaves the other
	// settings as they are (the defaults for a customer without any).
	SetLanguage(ctx context.Context, c bankbridge.CustomerID, l Language, at time.Time) error
}

// TimeZones keeps the time zone a customer chose for the times the bank
// shows them (the web app's pages, the bank's e-mails), beside their
// language in the same row of settings. The chat's replies do not read it.
// *sqlstore.MessengerStore implements it; store/storetest.Messenger proves
// it on both engines.
type TimeZones interface {
	// TimeZone is the customer's time zone, an IANA name; "" when they
	// never chose (the bank's time zone applies).
	TimeZone(ctx context.Context, c bankbridge.CustomerID) (string, error)
	// SetTimeZone stores zone, which must pass ParseTimeZone ("" forgets
	// the choice), and leaves the other settings as they are.
	SetTimeZone(ctx context.Context, c bankbridge.CustomerID, zone string, at time.Time) error
}

// ErrTimeZone is a time zone that is not an IANA name.
var ErrTimeZone = bankbridge.E(bankbridge.Invalid, "time_zone_invalid", "choose a time zone by its IANA name, such as America/Mexico_City")

// ParseTimeZone reads a customer's time zone: an IANA time zone database
// name (https://www.iana.org/time-zones) that Go's time package knows
// (the binary carries the database, time/tzdata). "Local" (the server's
// zone, which a customer cannot mean) and anything longer than 64 bytes
// are refused; so are paths, which time.LoadLocation refuses itself.
func ParseTimeZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n") {
		return nil, ErrTimeZone
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, ErrTimeZone
	}
	return loc, nil
}

// Store errors. Compare with errors.Is.
var (
	ErrNotLinked      = bankbridge.E(bankbridge.NotFound, "chat_not_linked", "this chat is not linked to a bank account")
	ErrNoPendingLink  = bankbridge.E(bankbridge.NotFound, "chat_link_expired", "the account linking expired; start it again from the chat")
	ErrNoConversation = bankbridge.E(bankbridge.NotFound, "chat_conversation_not_found", "no such conversation")
)

// SendClaim is the state of a bank-started message's send key.
type SendClaim int

// The states ClaimSend reports.
const (
	SendClaimed  SendClaim = iota // the caller sends now, then calls SentDelivery
	SendInFlight                  // another instance claimed it within the lease: try later
	SendDone                      // it was sent: nothing to do
)
