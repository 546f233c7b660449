package scheduled

import (
	"context"
	"strconv"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// OrderID identifies a standing order.
type OrderID int64

// Every is how often an order repeats.
type Every string

// The frequencies.
const (
	Once    Every = "once"
	Weekly  Every = "weekly"
	Monthly Every = "monthly"
)

// Status is where an order stands.
type Status string

// Order statuses.
const (
	Active    Status = "active"
	Cancelled Status = "cancelled"
	Finished  Status = "finished" // its last occurrence ran
)

// Order is a scheduled or recurring payment.
type Order struct {
	ID       OrderID
	Customer bankbridge.CustomerID
	From     ledger.AccountID
	// To is the account paid at the bank (the customer's own, or an
	// internal payee's); 0 for an external payee.
	To ledger.AccountID
	// Payee is the payee paid, internal or external; 0 for the customer's
	// own account. Rail says the payee is at another bank.
	Payee    ledger.PayeeID
	Rail     bool
	Label    string // who is paid, as the customer reads it
	Amount   ledger.Amount
	Currency ledger.Currency
	Memo     string
	Every    Every
	Start    time.Time // the first date (midnight UTC)
	Until    time.Time // no occurrence after this date; zero for none
	Count    int       // at most this many occurrences; 0 for no count
	Runs     int       // occurrences claimed so far (paid, refused, missed or skipped)
	Next     time.Time // the next occurrence's date; zero once finished
	Status   Status
	Created  time.Time
	// Version grows with every change of the order (a claim, an edit, a
	// cancel): an edit or a claim made on an older version changes nothing.
	Version int64
	// Anchor is the occurrence whose date Start is: 1, until an edit moves
	// the next date and the later dates follow it.
	Anchor int
	// Authorized is the largest payment the customer authorised with their
	// authenticator code when setting the order up or editing it (0: none):
	// occurrences up to it are paid without the step-up the limits would
	// otherwise ask for on the date, which nobody could give then.
	Authorized   ledger.Amount
	AuthorizedAt time.Time
}

// RunStatus is what became of one occurrence.
type RunStatus string

// Run statuses. Claimed is a run taken by a worker and not yet settled: a
// worker killed then leaves it, and the next pass pays it under the same key.
const (
	Claimed RunStatus = "claimed"
	Paid    RunStatus = "paid"
	Refused RunStatus = "refused"
	Missed  RunStatus = "missed"
	Skipped RunStatus = "skipped"
)

// Run is one occurrence of an order.
type Run struct {
	Order    OrderID
	Seq      int // 1 for the first occurrence
	Customer bankbridge.CustomerID
	Date     time.Time
	Status   RunStatus
	Reason   string // why refused or missed, in the customer's words
	Ref      string // the ledger transfer or rails payment made
	At       time.Time
	why      error // the refusal Reason says in words, for the notice
}

// Key is the idempotency key of the occurrence's payment: one order, one
// occurrence, one key, on every instance.
func (r Run) Key() string { return "sched:" + itoa(int64(r.Order)) + ":" + itoa(int64(r.Seq)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// RunHour is the hour, in the bank's time zone (Options.Location), on an
// occurrence's date from which it is due.
const RunHour = 6

// DueAt is the instant the occurrence dated day (a calendar date, as Day
// returns) is due in loc: RunHour there. In a time zone that skips RunHour
// (a daylight-saving jump), time.Date moves it to the next valid instant.
func DueAt(day time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return time.Date(day.Year(), day.Month(), day.Day(), RunHour, 0, 0, 0, loc)
}

// Errors of the package.
var (
	ErrNotFound = bankbridge.E(bankbridge.NotFound, "scheduled_payment_not_found", "no such scheduled payment")
	ErrInvalid  = bankbridge.E(bankbridge.Invalid, "scheduled_payment_invalid", "the scheduled payment is not valid")
	ErrEnded    = bankbridge.E(bankbridge.Conflict, "scheduled_payment_ended", "the scheduled payment was cancelled or has finished")
	// ErrChanged is an edit made on a version of the order that is no
	// longer current: a payment was just made, or another edit landed.
	ErrChanged = bankbridge.E(bankbridge.Conflict, "scheduled_payment_changed", "the scheduled payment changed meanwhile; look at it again")
)

// Day returns t's calendar day in t's own location (pass now.In(loc) for
// "today" in the bank's time zone), as a date: midnight UTC of that day.
// Dates are stored so, whatever the zone; only DueAt applies it.
func Day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// DateOf returns the date of occurrence seq (1-based): weekly every 7 days
// from Start; monthly on Start's day of the month, or the month's last day
// when it has fewer (the 31st, then the 30th of April).
func (o Order) DateOf(seq int) time.Time {
	n := seq - max(o.Anchor, 1)
	switch o.Every {
	case Weekly:
		return o.Start.AddDate(0, 0, 7*n)
	case Monthly:
		y, m, d := o.Start.Date()
		first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
		last := first.AddDate(0, 1, -1).Day()
		return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
	}
	return o.Start
}

// After returns the date of the occurrence after seq, and false when seq
// was the last (once, the count reached, or past Until).
func (o Order) After(seq int) (time.Time, bool) {
	if o.Every == Once || (o.Count > 0 && seq >= o.Count) {
		return time.Time{}, false
	}
	d := o.DateOf(seq + 1)
	if !o.Until.IsZero() && d.After(o.Until) {
		return time.Time{}, false
	}
	return d, true
}

// Validate checks an order before it is saved; today is the customer's
// current date, before which nothing may start.
func (o Order) Validate(today time.Time) error {
	switch {
	case o.Customer <= 0 || o.From <= 0:
		return ErrInvalid.WithMessage("choose an account to pay from")
	case o.To <= 0 && o.Payee <= 0:
		return ErrInvalid.WithMessage("choose who to pay")
	case o.To == o.From:
		return ErrInvalid.WithMessage("choose a different account to pay into")
	case o.Amount <= 0:
		return ErrInvalid.WithMessage("enter an amount above zero")
	case o.Every != Once && o.Every != Weekly && o.Every != Monthly:
		return ErrInvalid.WithMessage("choose once, every week or every month")
	case o.Start.IsZero() || o.Start.Before(Day(today)):
		return ErrInvalid.WithMessage("choose a date from today on")
	case o.Start.After(Day(today).AddDate(1, 0, 0)):
		return ErrInvalid.WithMessage("choose a date within a year")
	case o.Count < 0 || o.Count > 520:
		return ErrInvalid.WithMessage("the number of payments is 1 to 520")
	case !o.Until.IsZero() && o.Until.Before(o.Start):
		return ErrInvalid.WithMessage("the end date is before the first payment")
	case o.Every != Once && o.Count == 0 && o.Until.IsZero():
		return ErrInvalid.WithMessage("choose when the payments end: a date or a number of payments")
	case len([]rune(o.Memo)) > 50:
		return ErrInvalid.WithMessage("keep the note to 50 characters or fewer")
	}
	return nil
}

// Store keeps orders and their runs. Every method is safe to call from
// several instances at once.
type Store interface {
	// CreateOrder saves a new order (its Next is its Start, Runs 0) and
	// returns it with its id.
	CreateOrder(ctx context.Context, o Order) (Order, error)
	// Order returns the customer's order; ErrNotFound when it is not
	// theirs or does not exist.
	Order(ctx context.Context, c bankbridge.CustomerID, id OrderID) (Order, error)
	// Orders lists the customer's orders, active first, by next date.
	Orders(ctx context.Context, c bankbridge.CustomerID) ([]Order, error)
	// CancelOrder ends the customer's order; ErrNotFound, or ErrEnded when
	// it had ended.
	CancelOrder(ctx context.Context, c bankbridge.CustomerID, id OrderID, at time.Time) error
	// Due returns active orders whose next date is at or before day,
	// oldest first, at most limit.
	Due(ctx context.Context, day time.Time, limit int) ([]Order, error)
	// Claim records run (occurrence o.Runs+1 of o) and moves o to next (zero
	// and finished when there is none), in one transaction, if and only if
	// the order is still active with o.Runs runs: false, nothing changed,
	// when another worker or the customer got there first.
	Claim(ctx context.Context, o Order, run Run, next time.Time) (bool, error)
	// Settle records what became of a claimed run.
	Settle(ctx context.Context, run Run) error
	// Unsettled returns runs claimed before before and never settled (a
	// worker died between claiming and paying), at most limit.
	Unsettled(ctx context.Context, before time.Time, limit int) ([]Run, error)
	// Runs lists an order's runs, newest first, at most limit.
	Runs(ctx context.Context, c bankbridge.CustomerID, id OrderID, limit int) ([]Run, error)
	// UpdateOrder saves an edited order (amount, memo, Start and Anchor,
	// Next, Until, Count, Authorized) and ch, its history entry, in one
	// transaction, if and only if the order is still active at o.Version;
	// the version moves on by one. ErrNotFound for another customer's or
	// no order, ErrEnded when it ended, ErrChanged when its version moved
	// (the worker claimed an occurrence, or another edit landed).
	UpdateOrder(ctx context.Context, o Order, ch Change) (Order, error)
	// Changes lists an order's history, newest first, at most limit.
	Changes(ctx context.Context, c bankbridge.CustomerID, id OrderID, limit int) ([]Change, error)
}

// Change is one entry of an order's history: who changed what.
type Change struct {
	Order    OrderID
	Version  int64 // the version the change made
	Customer bankbridge.CustomerID
	Actor    string // "customer:12"
	Detail   string // "amount 10.00 USD -> 20.00 USD; next date 2026-03-09 -> 2026-03-16"
	At       time.Time
}
