package scheduled

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
)

// Client is the ledger client name of scheduled payments' transfers; with
// Run.Key it makes each occurrence's transfer idempotent.
const Client = "scheduled"

// Grace is how late an occurrence may still be paid unless Options say
// otherwise: one found later (every instance was down over its date) is
// reported to the customer as missed instead, so that nobody is paid days
// late without being asked.
const Grace = 72 * time.Hour

// Payer sends payments to external payees (rails.Service).
type Payer interface {
	Pay(ctx context.Context, r rails.PayRequest) (rails.Payment, error)
}

// Limits is the fleet's payment limits (limits.Guard).
type Limits interface {
	Reserve(ctx context.Context, p limits.Payment) error
	Release(ctx context.Context, p limits.Payment) error
}

// Teller tells a customer something in the bank's notification centre
// (alerts.Service.Tell). key makes telling idempotent.
type Teller interface {
	Tell(ctx context.Context, c bankbridge.CustomerID, key, title, body string) error
}

// Options are the service's collaborators; Payer, Limits and Teller may be
// nil (no rails: external orders are refused; no limits; nobody told).
type Options struct {
	Payer  Payer
	Limits Limits
	Teller Teller
	Now    func() time.Time
	Logger *slog.Logger
	Grace  time.Duration // 0 means Grace
}

// Service creates, lists and runs scheduled payments.
type Service struct {
	st  Store
	led *ledger.Service
	o   Options
}

// New returns the service over st.
func New(st Store, led *ledger.Service, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Grace <= 0 {
		o.Grace = Grace
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{st: st, led: led, o: o}
}

// Store returns the service's store.
func (s *Service) Store() Store { return s.st }

// Create validates and saves an order for its customer.
func (s *Service) Create(ctx context.Context, o Order) (Order, error) {
	now := s.o.Now()
	o.Start, o.Status, o.Runs, o.Created = Day(o.Start), Active, 0, now
	if !o.Until.IsZero() {
		o.Until = Day(o.Until)
	}
	if err := o.Validate(now); err != nil {
		return Order{}, err
	}
	o.Next = o.Start
	return s.st.CreateOrder(ctx, o)
}

// Skip skips the order's next occurrence: it is recorded as skipped and the
// order moves to the one after. A worker paying it at the same moment wins
// or loses the same claim, so it is paid or skipped, never both.
func (s *Service) Skip(ctx context.Context, c bankbridge.CustomerID, id OrderID) error {
	o, err := s.st.Order(ctx, c, id)
	if err != nil {
		return err
	}
	if o.Status != Active {
		return ErrEnded
	}
	seq := o.Runs + 1
	next, _ := o.After(seq)
	ok, err := s.st.Claim(ctx, o, Run{Order: o.ID, Seq: seq, Customer: c, Date: o.Next, Status: Skipped, At: s.o.Now()}, next)
	if err != nil {
		return err
	}
	if !ok {
		return ErrEnded.WithMessage("that payment has just been made or the order changed; look again")
	}
	return nil
}

// Cancel ends the order; nothing more is paid.
func (s *Service) Cancel(ctx context.Context, c bankbridge.CustomerID, id OrderID) error {
	return s.st.CancelOrder(ctx, c, id, s.o.Now())
}

// Run pays due occurrences every period until ctx ends. Run it on one
// instance of the fleet (under a lease); Cycle stays correct if two run.
func (s *Service) Run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if _, err := s.Cycle(ctx); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("scheduled: cycle", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Cycle settles runs a dead worker left claimed, then claims and pays every
// due occurrence; it returns how many runs it settled.
func (s *Service) Cycle(ctx context.Context) (int, error) {
	now := s.o.Now()
	n := 0
	// A run claimed a minute ago and still unsettled belongs to no live
	// worker: this pass pays it under the same key, so a payment the dead
	// worker did make is found, not made again.
	left, err := s.st.Unsettled(ctx, now.Add(-time.Minute), 100)
	if err != nil {
		return n, err
	}
	for _, r := range left {
		o, err := s.st.Order(ctx, r.Customer, r.Order)
		if err != nil {
			return n, err
		}
		if err := s.pay(ctx, o, r); err != nil {
			return n, err
		}
		n++
	}
	// Orders may be due more than once (a monthly order whose instance was
	// down for months): each pass of the loop claims one occurrence each.
	for range 1000 {
		due, err := s.st.Due(ctx, Day(now), 100)
		if err != nil {
			return n, err
		}
		claimed := 0
		for _, o := range due {
			if now.Before(o.Next.Add(RunHour * time.Hour)) {
				continue
			}
			ok, err := s.claim(ctx, o, now)
			if err != nil {
				return n, err
			}
			if ok {
				claimed++
				n++
			}
		}
		if claimed == 0 {
			return n, nil
		}
	}
	return n, nil
}

// claim takes o's next occurrence and pays it, or reports it missed.
func (s *Service) claim(ctx context.Context, o Order, now time.Time) (bool, error) {
	seq := o.Runs + 1
	next, _ := o.After(seq)
	r := Run{Order: o.ID, Seq: seq, Customer: o.Customer, Date: o.Next, Status: Claimed, At: now}
	late := now.Sub(o.Next.Add(RunHour*time.Hour)) > s.o.Grace
	if late {
		r.Status = Missed
		r.Reason = fmt.Sprintf("it was due on %s and our systems could not run it in time", o.Next.Format("Monday, January 2"))
	}
	ok, err := s.st.Claim(ctx, o, r, next)
	if err != nil || !ok {
		return false, err
	}
	if late {
		s.tell(ctx, o, r, "Scheduled payment not made",
			fmt.Sprintf("Your scheduled payment of %s to %s was not made: %s. Nothing was taken from your account. You can pay it now from Move money.",
				o.Amount.Display(o.Currency), o.Label, r.Reason))
		return true, nil
	}
	return true, s.pay(ctx, o, r)
}

// pay makes run's payment under its key and settles the run. A refusal the
// customer can act on settles it refused and tells them; anything
// transient leaves it claimed for the next pass.
func (s *Service) pay(ctx context.Context, o Order, r Run) error {
	key := r.Key()
	var lim *limits.Payment
	if o.Payee != 0 && s.o.Limits != nil {
		payee := o.To
		if o.Rail {
			payee = rails.Payee{ID: o.Payee}.LimitsPayee()
		}
		lim = &limits.Payment{Customer: o.Customer, Payee: payee, Amount: o.Amount, Currency: o.Currency, Channel: Client, Key: key}
	}
	ref, err := s.send(ctx, o, r, lim)
	switch {
	case err == nil:
		r.Status, r.Ref = Paid, ref
	case refusal(err):
		if lim != nil && !errors.Is(err, limits.ErrDaily) && !errors.Is(err, limits.ErrPayee) && !errors.Is(err, limits.ErrNewPayee) && !errors.Is(err, limits.ErrStepUp) {
			if rerr := s.o.Limits.Release(ctx, *lim); rerr != nil {
				return rerr
			}
		}
		r.Status, r.Reason = Refused, Words(err, o)
	default:
		return err
	}
	r.At = s.o.Now()
	if err := s.st.Settle(ctx, r); err != nil {
		return err
	}
	if r.Status == Refused {
		s.tell(ctx, o, r, "Scheduled payment not made",
			fmt.Sprintf("Your scheduled payment of %s to %s on %s was not made: %s. Nothing was taken from your account.",
				o.Amount.Display(o.Currency), o.Label, r.Date.Format("January 2"), r.Reason))
	}
	return nil
}

// send makes the payment and returns what it made ("tx:1", "ach:2").
func (s *Service) send(ctx context.Context, o Order, r Run, lim *limits.Payment) (string, error) {
	from, err := s.led.Store().Account(ctx, o.From)
	if err != nil || from.Customer != o.Customer {
		return "", ledger.ErrAccountNotFound
	}
	if lim != nil {
		if err := s.o.Limits.Reserve(ctx, *lim); err != nil {
			return "", err
		}
	}
	desc := "Scheduled payment to " + o.Label
	if o.Rail {
		if s.o.Payer == nil {
			return "", bankbridge.E(bankbridge.Unprocessable, "rails_off", "payments to other banks are not available")
		}
		p, err := s.o.Payer.Pay(ctx, rails.PayRequest{Customer: o.Customer, Payee: o.Payee, From: o.From, Amount: o.Amount,
			Memo: o.Memo, Channel: Client, Key: r.Key()})
		if err != nil {
			return "", err
		}
		if p.Status == rails.StatusRefused {
			return "", bankbridge.E(bankbridge.Unprocessable, "payment_refused", p.Reason)
		}
		return fmt.Sprintf("ach:%d", p.ID), nil
	}
	if o.Memo != "" {
		desc += ": " + o.Memo
	}
	t, _, err := s.led.Transfer(ctx, ledger.Move(Client, r.Key(), o.From, o.To, o.Amount, o.Currency, desc))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("tx:%d", t.ID), nil
}

// refusal reports whether err is the customer's to fix (not enough money,
// a frozen account, a limit), as opposed to transient.
func refusal(err error) bool {
	switch bankbridge.ErrorKind(err) {
	case bankbridge.Unprocessable, bankbridge.Conflict, bankbridge.Invalid, bankbridge.NotFound, bankbridge.Forbidden:
		return true
	}
	return false
}

// Words says in plain words why a payment of o was refused.
func Words(err error, o Order) string {
	switch {
	case errors.Is(err, ledger.ErrInsufficientFunds):
		return "there was not enough money in the account it is paid from"
	case errors.Is(err, ledger.ErrAccountFrozen):
		return "the account it is paid from is frozen"
	case errors.Is(err, ledger.ErrAccountClosed):
		return "one of the accounts is closed"
	case errors.Is(err, ledger.ErrAccountNotFound), errors.Is(err, rails.ErrPayeeNotFound):
		return "the account or payee no longer exists"
	case errors.Is(err, limits.ErrDaily):
		return "it would have taken your payments of the last 24 hours past your daily limit"
	case errors.Is(err, limits.ErrPayee), errors.Is(err, limits.ErrNewPayee):
		return "it would have taken your payments to " + o.Label + " past the limit for one payee"
	case errors.Is(err, limits.ErrStepUp):
		return "your payments of the last 24 hours passed the amount that needs a code from your authenticator app, which a scheduled payment cannot ask for"
	}
	return bankbridge.ErrorMessage(err)
}

func (s *Service) tell(ctx context.Context, o Order, r Run, title, body string) {
	if s.o.Teller == nil {
		return
	}
	if err := s.o.Teller.Tell(ctx, o.Customer, r.Key(), title, body); err != nil {
		s.o.Logger.Warn("scheduled: could not tell the customer", "order", o.ID, "seq", r.Seq, "err", err)
	}
}
