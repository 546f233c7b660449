package alerts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// Rule names why an alert was raised.
type Rule string

// The rules. Suspicious asks "was this you?".
const (
	LargeDebit   Rule = "large_debit"   // a debit over the customer's threshold
	LowBalance   Rule = "low_balance"   // the available balance fell below the customer's floor
	CardPurchase Rule = "card_purchase" // every card purchase (a debit at a merchant)
	Deposit      Rule = "deposit"       // money received
	PaymentSent  Rule = "payment_sent"  // money sent (not at a merchant)
	Suspicious   Rule = "suspicious"    // new category far from history, velocity, foreign
	// Scheduled is a notice about a scheduled payment (not made: refused or
	// missed), raised by package scheduled through Tell, not by an event.
	Scheduled Rule = "scheduled_payment"
)

// Privacy is how much an alert may say outside the bank's own app.
type Privacy string

// Privacy modes, the same words the assistant uses.
const (
	PrivacyFull    Privacy = "full"    // amounts, merchants, last four digits
	PrivacyMinimal Privacy = "minimal" // "you have an alert", and the question if any
	PrivacyOff     Privacy = "off"     // nothing to third-party platforms
)

// Valid reports whether p is a known mode.
func (p Privacy) Valid() bool { return p == PrivacyFull || p == PrivacyMinimal || p == PrivacyOff }

// Settings are one customer's alert choices. Suspicious activity is always
// checked: it cannot be turned off.
type Settings struct {
	Customer      bankbridge.CustomerID
	Privacy       Privacy
	LargeDebit    ledger.Amount // alert on a debit of at least this; 0 turns it off
	LowBalance    ledger.Amount // alert when available falls below this; 0 turns it off
	CardPurchases bool
	Deposits      bool
	Payments      bool
	Email         string // where e-mail alerts go; "" for none
	Updated       time.Time
}

// DefaultSettings are what a customer who never chose gets: minimal
// privacy, debits of 500.00 or more, a balance under 100.00, card
// purchases, deposits and payments on, no e-mail.
func DefaultSettings(c bankbridge.CustomerID) Settings {
	return Settings{Customer: c, Privacy: PrivacyMinimal, LargeDebit: 50000, LowBalance: 10000,
		CardPurchases: true, Deposits: true, Payments: true}
}

// ErrSettings reports settings that cannot be saved.
var ErrSettings = bankbridge.E(bankbridge.Invalid, "alert_settings_invalid", "those alert settings are not valid")

// Validate checks settings before they are saved.
func (s Settings) Validate() error {
	switch {
	case s.Customer <= 0:
		return ErrSettings.WithMessage("settings need a customer")
	case !s.Privacy.Valid():
		return ErrSettings.WithMessage("privacy is full, minimal or off")
	case s.LargeDebit < 0 || s.LowBalance < 0:
		return ErrSettings.WithMessage("thresholds cannot be negative")
	case len(s.Email) > 254:
		return ErrSettings.WithMessage("that e-mail address is too long")
	}
	return nil
}

// AlertID identifies an alert. It is derived from (event, rule, customer),
// so evaluating an event twice yields the same id; it reveals neither.
type AlertID string

// NewAlertID derives the id of the alert a rule raises for a customer on an
// event.
func NewAlertID(seq ledger.EventSeq, r Rule, c bankbridge.CustomerID) AlertID {
	h := sha256.Sum256([]byte("bankbridge-alert\x00" + strconv.FormatInt(int64(seq), 10) + "\x00" + string(r) + "\x00" + strconv.FormatInt(int64(c), 10)))
	return AlertID(hex.EncodeToString(h[:12]))
}

// Answer is a customer's answer to "was this you?".
type Answer string

// Answers; "" is not answered.
const (
	Yes Answer = "yes"
	No  Answer = "no"
)

// Alert is one alert for one customer: what the notification centre shows
// (always the full text: it is the bank's own app).
type Alert struct {
	ID       AlertID
	Seq      ledger.EventSeq
	Customer bankbridge.CustomerID
	Rule     Rule
	Transfer ledger.TransferID
	Account  ledger.AccountID
	Merchant ledger.MerchantID
	Amount   ledger.Amount
	Currency ledger.Currency
	Title    string
	Body     string
	Ask      bool // asks "was this you?"
	Answer   Answer
	Answered time.Time
	Read     time.Time
	Created  time.Time
	// Facts are what the alert says, as data: Text writes it from them in
	// the customer's language when it is shown or sent.
	Facts Facts
}

// NotificationQuery asks for one page of a customer's alerts.
type NotificationQuery struct {
	Customer bankbridge.CustomerID
	Rule     Rule                // "" for every rule
	Unread   bool                // only alerts not read yet
	Before   *NotificationCursor // the page after this alert; nil for the newest
	Limit    int
}

// NotificationCursor is where a page of alerts ends: the last alert's sort
// key.
type NotificationCursor struct {
	Created time.Time
	Seq     ledger.EventSeq
	Rule    Rule
}

// Rules lists every rule, in the order the notification centre offers them
// as filters.
func Rules() []Rule {
	return []Rule{Suspicious, CardPurchase, LargeDebit, LowBalance, Deposit, PaymentSent}
}

// Label is the rule's name for people ("Card purchase").
func (r Rule) Label() string { return r.label() }

// DeliveryStatus is where a delivery is.
type DeliveryStatus string

// Delivery states: pending (waiting or being retried), delivered, dead (gave
// up after MaxAttempts or a permanent refusal; visible to staff).
const (
	Pending   DeliveryStatus = "pending"
	Delivered DeliveryStatus = "delivered"
	Dead      DeliveryStatus = "dead"
)

// Delivery is one alert on one channel, with the text minimised for it.
// Its ID, alert id + "." + channel, is the dedupe key channels receive.
type Delivery struct {
	ID        string
	Alert     AlertID
	Customer  bankbridge.CustomerID
	Channel   string
	Rule      Rule
	Full      bool // the full text (privacy full): account details leave the bank
	Title     string
	Body      string
	Ask       bool
	Status    DeliveryStatus
	Attempts  int
	NextAt    time.Time
	LastError string
	Created   time.Time
	Done      time.Time
}

// DeliveryID is the id of an alert's delivery on a channel.
func DeliveryID(a AlertID, channel string) string { return string(a) + "." + channel }

// CaseID identifies a fraud case.
type CaseID int64

// Case is what staff follow up: a customer answered "no" to an alert
// (fraud), reported a card lost or stolen, or disputed a transaction.
type Case struct {
	ID   CaseID
	Kind CaseKind
	// Alert is the alert a fraud case was opened from; for other kinds, the
	// key that makes opening the case idempotent ("card:12:lost:1").
	Alert    AlertID
	Customer bankbridge.CustomerID
	Card     ledger.CardID // the card frozen; 0 when the account has none
	Transfer ledger.TransferID
	Merchant ledger.MerchantID
	Amount   ledger.Amount
	Currency ledger.Currency
	Status   string // open, closed
	Note     string
	Opened   time.Time
	Closed   time.Time
	ClosedBy bankbridge.StaffID
	Assignee bankbridge.StaffID // 0 until someone takes it
	Reason   string             // a dispute's card network reason code ("visa 13.1")
	Due      time.Time          // a dispute's deadline to file with the network; zero otherwise
}

// Profile is what the rules remember of a customer's spending. Money stays
// in integer minor units; Typical is an integer moving average.
type Profile struct {
	LastSeq    ledger.EventSeq `json:"last_seq"`   // events at or below are already counted
	Debits     int             `json:"debits"`     // card debits seen
	Typical    ledger.Amount   `json:"typical"`    // moving average of card debits (1/8 weight)
	Largest    ledger.Amount   `json:"largest"`    // the largest card debit
	Categories map[string]int  `json:"categories"` // card debits per category
	Recent     []time.Time     `json:"recent"`     // times of the last card debits (velocity)
}

// Batch is what a Worker commits for a slice of the outbox.
type Batch struct {
	Alerts     []Alert
	Deliveries []Delivery
	Profiles   map[bankbridge.CustomerID]Profile
}

// Errors of the alerts store and service.
var (
	ErrAlertNotFound = bankbridge.E(bankbridge.NotFound, "alert_not_found", "no such alert")
	ErrAnswered      = bankbridge.E(bankbridge.Conflict, "alert_answered", "this alert was already answered")
	ErrNotAsking     = bankbridge.E(bankbridge.Invalid, "alert_not_a_question", "this alert does not ask anything")
	ErrCaseNotFound  = bankbridge.E(bankbridge.NotFound, "fraud_case_not_found", "no such case")
	ErrDeliveryGone  = bankbridge.E(bankbridge.NotFound, "delivery_not_found", "no such dead letter")
)

// Store keeps alerts. Implementations live in store/sqlite and
// store/postgres and pass storetest.Alerts.
//
// Contract common to every method: driver errors are wrapped and never leak
// their text; unknown ids are the NotFound errors above.
type Store interface {
	// Cursor returns the last outbox sequence the named consumer committed,
	// 0 when it never did.
	Cursor(ctx context.Context, name string) (ledger.EventSeq, error)
	// Commit writes, in one transaction: the batch's alerts and deliveries,
	// skipping any whose id already exists (so re-evaluating an event adds
	// nothing); the profiles (replacing them); and the named cursor, moved
	// to upto unless it is already past it (upto 0 leaves it).
	Commit(ctx context.Context, name string, upto ledger.EventSeq, b Batch, now time.Time) error
	// Profiles returns the stored profiles of ids; absent customers are
	// missing from the map.
	Profiles(ctx context.Context, ids []bankbridge.CustomerID) (map[bankbridge.CustomerID]Profile, error)
	// Settings returns the stored settings of ids; absent customers are
	// missing from the map (callers use DefaultSettings).
	Settings(ctx context.Context, ids []bankbridge.CustomerID) (map[bankbridge.CustomerID]Settings, error)
	// SaveSettings stores a customer's settings (validated by the caller).
	SaveSettings(ctx context.Context, s Settings) error
	// Trusted reports whether the customer said "yes, it was me" to this
	// merchant before.
	Trusted(ctx context.Context, c bankbridge.CustomerID, m ledger.MerchantID) (bool, error)
	// Trust marks a merchant trusted for the customer; trusting twice is a
	// no-op.
	Trust(ctx context.Context, c bankbridge.CustomerID, m ledger.MerchantID, at time.Time) error

	// Claim takes up to limit pending deliveries, oldest first, and leases
	// them: their next attempt moves to now+lease and their attempt count
	// grows by one, so another dispatcher (another instance) does not take
	// them, and a dispatcher that dies leaves them to be claimed again after
	// the lease. It takes the deliveries on the channels named in own that
	// are due at now, and those on any channel that were due at others (a
	// time before now: no instance with their channel took them, and the
	// caller hands them back or dead-letters them); others equal to now
	// takes every channel. Safe to call concurrently.
	Claim(ctx context.Context, now time.Time, lease time.Duration, limit int, own []string, others time.Time) ([]Delivery, error)
	// Delivered marks a delivery done.
	Delivered(ctx context.Context, id string, at time.Time) error
	// Failed records a failed attempt: retried at next, or, when dead,
	// stored as a dead letter.
	Failed(ctx context.Context, id string, reason string, next time.Time, dead bool, at time.Time) error
	// DeadLetters lists dead deliveries, newest first.
	DeadLetters(ctx context.Context, limit int) ([]Delivery, error)
	// Requeue makes a dead letter pending again, due at; ErrDeliveryGone
	// when id is not a dead letter.
	Requeue(ctx context.Context, id string, at time.Time) error
	// Deliveries lists an alert's deliveries by channel.
	Deliveries(ctx context.Context, a AlertID) ([]Delivery, error)

	// Notifications lists a customer's alerts, newest first, and how many
	// are unread.
	Notifications(ctx context.Context, c bankbridge.CustomerID, limit int) ([]Alert, int, error)
	// NotificationPage lists up to q.Limit of q.Customer's alerts that match
	// q, newest first (Created, then Seq, then Rule, all descending), after
	// q.Before when set, and how many of the customer's alerts are unread
	// (whatever the filter).
	NotificationPage(ctx context.Context, q NotificationQuery) ([]Alert, int, error)
	// Alert returns one alert.
	Alert(ctx context.Context, id AlertID) (Alert, error)
	// MarkRead marks every alert of the customer up to at as read.
	MarkRead(ctx context.Context, c bankbridge.CustomerID, at time.Time) error
	// SetAnswer records the answer to an asking alert of c. The same answer
	// again returns the alert unchanged (first=false); another answer is
	// ErrAnswered; an alert of another customer is ErrAlertNotFound.
	SetAnswer(ctx context.Context, c bankbridge.CustomerID, id AlertID, a Answer, at time.Time) (_ Alert, first bool, _ error)

	// OpenCase opens the case of an alert, or returns the one already open
	// for it.
	OpenCase(ctx context.Context, k Case) (Case, error)
	// Cases lists cases with the status ("" for all), newest first.
	Cases(ctx context.Context, status string, limit int) ([]Case, error)
	// CloseCase closes an open case with a note.
	CloseCase(ctx context.Context, id CaseID, staff bankbridge.StaffID, note string, at time.Time) error
	// Case returns one case; ErrCaseNotFound if there is none.
	Case(ctx context.Context, id CaseID) (Case, error)
	// CaseList lists the cases that match q: oldest first when q.Oldest
	// (a queue by age), else newest first.
	CaseList(ctx context.Context, q CaseQuery) ([]Case, error)
	// AssignCase gives an open case to a member of staff (0 takes it back
	// to the queue); ErrCaseNotFound if no open case has that id.
	AssignCase(ctx context.Context, id CaseID, staff bankbridge.StaffID) error
	// AddCaseNote appends a note to a case; ErrCaseNotFound if there is no
	// such case. Notes are never edited or removed.
	AddCaseNote(ctx context.Context, n CaseNote) (CaseNote, error)
	// CaseNotes lists a case's notes, oldest first.
	CaseNotes(ctx context.Context, id CaseID) ([]CaseNote, error)
}

func (p Privacy) String() string { return string(p) }

func (r Rule) label() string {
	switch r {
	case LargeDebit:
		return "Large payment"
	case LowBalance:
		return "Low balance"
	case CardPurchase:
		return "Card purchase"
	case Deposit:
		return "Money received"
	case PaymentSent:
		return "Payment sent"
	case Suspicious:
		return "Was this you?"
	case PaymentStatus:
		return "Payment update"
	case Scheduled:
		return "Scheduled payment"
	}
	return fmt.Sprintf("Alert (%s)", string(r))
}
