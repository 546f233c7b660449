package limits

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// Policy is a bank's limits, in minor units of the payment's currency. A
// zero field takes its default (DefaultPolicy); a negative one is refused by
// Validate.
type Policy struct {
	// Daily bounds what a customer pays others over any 24 hours, on every
	// channel together.
	Daily ledger.Amount
	// PerPayee bounds what a customer pays one payee over any 24 hours.
	PerPayee ledger.Amount
	// NewPayee replaces PerPayee while the payee is in cooling-off: saved,
	// or first paid, less than Cooling ago.
	NewPayee ledger.Amount
	// Cooling is how long a payee stays new.
	Cooling time.Duration
	// StepUp is the 24-hour total above which a payment needs a step-up;
	// it is crossed by the total, not by one payment alone, so splitting a
	// payment into pieces does not avoid it.
	StepUp ledger.Amount
}

// Window is the period the totals cover: a rolling 24 hours, so that no
// midnight lets a customer (or a thief) spend two days' limit in a minute.
const Window = 24 * time.Hour

// DefaultPolicy is what a mid-size bank would start with for online and
// app payments (docs/limits.md says why).
var DefaultPolicy = Policy{
	Daily:    10_000_00,
	PerPayee: 5_000_00,
	NewPayee: 1_000_00,
	Cooling:  24 * time.Hour,
	StepUp:   1_000_00,
}

// WithDefaults returns p with each zero field set to DefaultPolicy's.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy
	if p.Daily == 0 {
		p.Daily = d.Daily
	}
	if p.PerPayee == 0 {
		p.PerPayee = d.PerPayee
	}
	if p.NewPayee == 0 {
		p.NewPayee = d.NewPayee
	}
	if p.Cooling == 0 {
		p.Cooling = d.Cooling
	}
	if p.StepUp == 0 {
		p.StepUp = d.StepUp
	}
	return p
}

// Validate reports every figure of p that cannot work, at once.
func (p Policy) Validate() error {
	var errs []error
	if p.Daily < 0 || p.PerPayee < 0 || p.NewPayee < 0 || p.StepUp < 0 || p.Cooling < 0 {
		errs = append(errs, errors.New("limits: a limit cannot be negative"))
	}
	if p.PerPayee > p.Daily {
		errs = append(errs, fmt.Errorf("limits: the per-payee limit %d is above the daily limit %d", p.PerPayee, p.Daily))
	}
	if p.NewPayee > p.PerPayee {
		errs = append(errs, fmt.Errorf("limits: the new-payee limit %d is above the per-payee limit %d", p.NewPayee, p.PerPayee))
	}
	return errors.Join(errs...)
}

// Usage is what the customer already paid within the Window before this
// payment, in its currency, on every channel.
type Usage struct {
	Day   ledger.Amount // to everyone
	Payee ledger.Amount // to this payee
	// FirstPaid is the customer's first recorded payment to this payee;
	// zero when this payment is the first.
	FirstPaid time.Time
}

// Payment is one payment to decide on.
type Payment struct {
	Customer bankbridge.CustomerID
	// Payee is the account the money goes to: the same payee is the same
	// account on the web, the partner API and every chat platform.
	Payee    ledger.AccountID
	Amount   ledger.Amount
	Currency ledger.Currency
	// Saved is when the customer saved the payee at the bank; zero when
	// unknown.
	Saved time.Time
	// SteppedUp says the customer proved their second factor for this
	// payment (a fresh authenticator code, a confirmation on the bank's
	// page).
	SteppedUp bool
	// Channel and Key identify the payment as its channel's idempotency key
	// does ("web", "dataapi", "chat:telegram"): a retry counts once.
	Channel string
	Key     string
}

// Errors of Decide. Compare with errors.Is; the codes are stable and shown
// to partners.
var (
	ErrDaily    = bankbridge.E(bankbridge.Unprocessable, "daily_limit_exceeded", "the payment would take the customer's payments of the last 24 hours past their daily limit")
	ErrPayee    = bankbridge.E(bankbridge.Unprocessable, "payee_limit_exceeded", "the payment would take the customer's payments to this payee in the last 24 hours past the per-payee limit")
	ErrNewPayee = bankbridge.E(bankbridge.Unprocessable, "new_payee_limit_exceeded", "the payee is new, and payments to a new payee have a lower limit for the first hours")
	ErrStepUp   = bankbridge.E(bankbridge.Forbidden, "step_up_required", "the payments of the last 24 hours pass the amount that needs the customer's second factor")
)

// Decide is the rule: nil when the payment may go, ErrStepUp when it may go
// once the customer steps up, or the refusal (ErrDaily, ErrPayee,
// ErrNewPayee) that no step-up lifts. Refusals are checked first so that
// nobody is asked for a code to be refused after. Sums that would overflow
// are refused as past the limit.
func Decide(p Policy, u Usage, pay Payment, now time.Time) error {
	day, ok1 := u.Day.Add(pay.Amount)
	payee, ok2 := u.Payee.Add(pay.Amount)
	if !ok1 || day > p.Daily {
		return ErrDaily
	}
	if isNew(p, u, pay, now) {
		if !ok2 || payee > p.NewPayee {
			return ErrNewPayee
		}
	} else if !ok2 || payee > p.PerPayee {
		return ErrPayee
	}
	if day > p.StepUp && !pay.SteppedUp {
		return ErrStepUp
	}
	return nil
}

// isNew reports whether the payee is in cooling-off: saved less than
// Cooling ago, or first paid less than Cooling ago (this payment being the
// first when none is recorded).
func isNew(p Policy, u Usage, pay Payment, now time.Time) bool {
	if !pay.Saved.IsZero() && now.Sub(pay.Saved) < p.Cooling {
		return true
	}
	return u.FirstPaid.IsZero() || now.Sub(u.FirstPaid) < p.Cooling
}

// Use is a payment as recorded against the limits.
type Use struct {
	Customer bankbridge.CustomerID
	Payee    ledger.AccountID
	Amount   ledger.Amount
	Currency ledger.Currency
	Channel  string
	Key      string
	At       time.Time
}

// Store keeps the recorded payments. Implementations live in store/sqlite
// and store/postgres and pass one suite (store/storetest.Limits).
type Store interface {
	// Record serialises with every other Record of u.Customer, in the
	// database (so across a fleet): it reads the Usage of u.Customer in
	// u.Currency to u.Payee since since, calls decide with it, and when
	// decide returns nil records u, all in one transaction. A use with the
	// same Channel and Key already recorded is a retry: decide is not
	// called, nothing changes and Record answers nil. Record returns
	// decide's error as it is.
	Record(ctx context.Context, u Use, since time.Time, decide func(Usage) error) error
	// Release forgets the use of channel and key, for a payment that did
	// not happen (the ledger refused it, the customer declined). Releasing
	// an unknown use is not an error.
	Release(ctx context.Context, channel, key string) error
}

// Guard applies a Policy to payments for every channel.
type Guard struct {
	store  Store
	policy Policy
	now    func() time.Time
}

// NewGuard returns a Guard over store; now may be nil (time.Now).
func NewGuard(store Store, p Policy, now func() time.Time) *Guard {
	if now == nil {
		now = time.Now
	}
	return &Guard{store: store, policy: p.WithDefaults(), now: now}
}

// Policy returns the figures the guard applies.
func (g *Guard) Policy() Policy { return g.policy }

// errPreview stops Record from recording, for Check.
var errPreview = errors.New("limits: preview")

// Check answers what Reserve would, without recording anything: for a form
// or a chat to say early that a payment needs a step-up or is refused.
// Reserve decides again.
func (g *Guard) Check(ctx context.Context, pay Payment) error {
	var verdict error
	err := g.record(ctx, pay, func(e error) error { verdict = e; return errPreview })
	if errors.Is(err, errPreview) {
		return verdict
	}
	if err == nil { // a retry of a payment already recorded: it fits
		return nil
	}
	return err
}

// Reserve decides pay and, when it may go, records it so that it counts at
// once against every later payment of the customer, on every instance.
// Call it just before the transfer, in the transfer's idempotency key, and
// Release it if the transfer is refused. Errors: ErrStepUp, ErrDaily,
// ErrPayee, ErrNewPayee, or the store's.
func (g *Guard) Reserve(ctx context.Context, pay Payment) error {
	return g.record(ctx, pay, func(e error) error { return e })
}

func (g *Guard) record(ctx context.Context, pay Payment, verdict func(error) error) error {
	now := g.now().UTC().Truncate(time.Microsecond)
	u := Use{Customer: pay.Customer, Payee: pay.Payee, Amount: pay.Amount, Currency: pay.Currency,
		Channel: pay.Channel, Key: pay.Key, At: now}
	return g.store.Record(ctx, u, now.Add(-Window), func(us Usage) error {
		return verdict(Decide(g.policy, us, pay, now))
	})
}

// Release forgets a reserved payment that did not happen, so it stops
// counting.
func (g *Guard) Release(ctx context.Context, pay Payment) error {
	return g.store.Release(ctx, pay.Channel, pay.Key)
}
