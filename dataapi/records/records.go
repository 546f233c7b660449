package records

import (
	"context"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// PaymentStatus is a payment's state, with the names partners see.
type PaymentStatus string

// The payment statuses. PENDING waits for the customer's confirmation on the
// bank's own page; POSTED moved the money; FAILED never will (refused by the
// ledger, declined by the customer, or not confirmed in time).
const (
	PaymentPending PaymentStatus = "PENDING"
	PaymentPosted  PaymentStatus = "POSTED"
	PaymentFailed  PaymentStatus = "FAILED"
)

// Payment is a movement of money a partner asked for under a consent.
type Payment struct {
	ID       string // random, opaque; what the partner and the confirmation page use
	Partner  string
	Grant    string // consent id
	Customer bankbridge.CustomerID
	From     ledger.AccountID
	To       ledger.AccountID
	// ToRef is the identifier the partner named the destination by (a payee
	// or account id in the partner's own id space), echoed back.
	ToRef    string
	Amount   ledger.Amount
	Currency ledger.Currency
	Memo     string
	// Key is the partner's idempotency key; Hash the SHA-256 of the request
	// it came with, so a replay with another body is told from a retry.
	Key    string
	Hash   [32]byte
	Status PaymentStatus
	// NeedsConfirmation says the amount was above the customer's step-up
	// limit: the payment waits for the customer on the bank's page.
	NeedsConfirmation bool
	// Reason is the stable error code of a FAILED payment; "" otherwise.
	Reason   string
	Transfer ledger.TransferID // 0 until posted
	Created  time.Time
	Updated  time.Time
	// ConfirmBy is when an unconfirmed payment fails; zero if none needed.
	ConfirmBy time.Time
}

// Subscription is a partner's endpoint for event notifications.
type Subscription struct {
	ID          string
	Partner     string
	CallbackURL string
	// Secret keys the HMAC-SHA256 signature of every delivery. Shown to the
	// partner once, when the subscription is made.
	Secret  []byte
	Created time.Time
}

// NotificationStatus is where a notification is in its delivery.
type NotificationStatus string

// The notification statuses.
const (
	NotificationPending   NotificationStatus = "pending"   // to be sent at Next
	NotificationDelivered NotificationStatus = "delivered" // a 2xx answer came back
	NotificationDead      NotificationStatus = "dead"      // gave up after the last attempt
)

// Notification is one event to deliver to one subscription: the outbox row.
type Notification struct {
	ID           string // the eventId the partner deduplicates on
	Subscription string
	Partner      string
	Type         string // CONSENT_REVOKED, CONSENT_UPDATED, PAYMENT_STATUS_CHANGED
	Body         []byte // the exact JSON delivered (and signed)
	Status       NotificationStatus
	Attempts     int
	Next         time.Time // when to try next
	LastError    string    // short, for operators
	Created      time.Time
}

// LatencyBuckets are the upper bounds, in milliseconds, of the latency
// histogram kept per partner per month; a last, unbounded bucket follows.
var LatencyBuckets = []float64{5, 10, 25, 50, 100, 250, 500, 1000, 2500, 3500, 5000}

// Performance is one partner's counters for one month and one latency
// bucket: responses whose latency fell in the bucket, and how many of those
// were proper responses.
type Performance struct {
	Month     string // "2026-05", UTC
	Partner   string
	Bucket    int // index into LatencyBuckets; len(LatencyBuckets) is the overflow
	Responses int64
	Proper    int64
}

// Errors of the records. Compare with errors.Is.
var (
	ErrPaymentNotFound      = bankbridge.E(bankbridge.NotFound, "payment_not_found", "no such payment")
	ErrSubscriptionNotFound = bankbridge.E(bankbridge.NotFound, "subscription_not_found", "no such notification subscription")
)

// Store keeps the data API's records. Implementations live in store/sqlite
// and store/postgres and pass store/storetest.DataAPI.
//
// Contract: times are kept to the microsecond; unknown ids answer the
// NotFound error named on the method; driver errors are wrapped.
type Store interface {
	// CreatePayment inserts p unless the partner already used p.Key: then it
	// returns the stored payment and false, changing nothing. Of concurrent
	// callers with one key exactly one creates.
	CreatePayment(ctx context.Context, p Payment) (Payment, bool, error)
	// Payment returns one payment; ErrPaymentNotFound.
	Payment(ctx context.Context, id string) (Payment, error)
	// SetPaymentStatus moves a payment from status from to to (with the
	// transfer and reason) at `at`, atomically: false, and no change, when
	// its status was not from any more. ErrPaymentNotFound.
	SetPaymentStatus(ctx context.Context, id string, from, to PaymentStatus, transfer ledger.TransferID, reason string, at time.Time) (bool, error)
	// ExpiredPayments lists PENDING payments whose ConfirmBy is not after
	// now, at most limit.
	ExpiredPayments(ctx context.Context, now time.Time, limit int) ([]Payment, error)

	// CreateSubscription stores s.
	CreateSubscription(ctx context.Context, s Subscription) error
	// Subscriptions lists a partner's subscriptions, oldest first.
	Subscriptions(ctx context.Context, partner string) ([]Subscription, error)
	// Subscription returns one of partner's subscriptions; one of another
	// partner is ErrSubscriptionNotFound.
	Subscription(ctx context.Context, partner, id string) (Subscription, error)
	// DeleteSubscription removes one of partner's subscriptions and its
	// undelivered notifications; ErrSubscriptionNotFound.
	DeleteSubscription(ctx context.Context, partner, id string) error

	// Enqueue adds notifications to the outbox; one whose id is there
	// already is the same event told again, and is dropped.
	Enqueue(ctx context.Context, ns []Notification) error
	// DueNotifications lists pending notifications whose Next is not after
	// now, oldest first, at most limit.
	DueNotifications(ctx context.Context, now time.Time, limit int) ([]Notification, error)
	// UpdateNotification records a delivery attempt: status, attempts, next
	// time and last error. ErrSubscriptionNotFound is not checked: a
	// notification whose subscription was deleted is simply gone.
	UpdateNotification(ctx context.Context, n Notification) error
	// Notifications lists a subscription's notifications, oldest first, at
	// most limit (for tests and operators).
	Notifications(ctx context.Context, subscription string, limit int) ([]Notification, error)

	// AddPerformance adds the counters of ps to the stored ones (creating
	// rows as needed), in one transaction.
	AddPerformance(ctx context.Context, ps []Performance) error
	// Performance lists the counters of months >= since ("2025-05"), by
	// month, partner and bucket.
	Performance(ctx context.Context, since string) ([]Performance, error)
	// PrunePerformance deletes counters of months before month.
	PrunePerformance(ctx context.Context, before string) error
}

// Month names the UTC month of t as the store keys it: "2026-05".
func Month(t time.Time) string { return t.UTC().Format("2006-01") }
