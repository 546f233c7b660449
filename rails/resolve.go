package rails

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/legible"
)

// Settling what waits in the ACH return exceptions account (docs/rails.md,
// "Settling what waits in the exceptions account").
//
// Some exceptions end with money no rule can place (dishonor.go): a
// dishonour of the bank's return that it accepts (the entry it returned
// stands after all: a credit's money, or an inbound debit the account
// could not pay), and a contest of the bank's dishonour that does not
// apply the return (final in the network). Their entries stay unmatched,
// and what they moved with the operator stays in the exceptions account,
// until an operator decides:
//
//	credit    the money held goes to a customer's account (the entry's, or one named);
//	charge    what the bank paid out is the customer's to pay: the ACH return
//	          receivable pays the exceptions account, the customer owes it, and
//	          the overdraft-on-return rule takes it from the account (debit.go);
//	write_off the bank takes it on its own books: the ACH exceptions
//	          written-off account (a gain when money was held, a loss when paid out).
//
// A decision is recorded before anything is booked, once per entry on every
// instance (the store keeps the first; a second, by anyone, is told the
// first), then booked under a key derived from the entry (xres:), and the
// entry marked resolved with it in one transaction; the rails worker books
// any decision whose instance died in between (FinishResolutions). The
// reconciliation counts what resolved items held ("resolved"), so the
// settlement account still agrees with the rail's records.

// Resolution actions.
const (
	ResolveCredit   = "credit"
	ResolveCharge   = "charge"
	ResolveWriteOff = "write_off"
)

// EntryResolved is an exception an operator settled.
const EntryResolved EntryStatus = "resolved"

// WriteOffNumber is the account number of the ACH exceptions written-off
// account: the bank's own gains and losses on exceptions an operator
// settled on its books (a negative balance is a net loss).
const WriteOffNumber ledger.AccountNumber = "900000000023"

// WriteOffs finds the ACH exceptions written-off account, opening it the
// first time.
func (s *Service) WriteOffs(ctx context.Context) (ledger.Account, error) {
	return s.internal(ctx, WriteOffNumber, "ACH exceptions written off")
}

// Resolution is an operator's decision on an exception entry, and its
// booking.
type Resolution struct {
	File  FileID
	Trace string
	Kind  EntryKind
	// Action is ResolveCredit, ResolveCharge or ResolveWriteOff.
	Action string
	// Held is what the entry held in the exceptions account, signed: more
	// than zero money the bank holds, less than zero money it paid out.
	Held     ledger.Amount
	Customer bankbridge.CustomerID
	Account  ledger.AccountID // credited or charged; 0 for a write-off
	Staff    bankbridge.StaffID
	Reason   string
	Transfer ledger.TransferID
	// Owed and Recovering: a charge's debt, as Payment's.
	Owed       ledger.Amount
	Recovering ledger.Amount
	Decided    time.Time
	Done       time.Time // zero until booked
}

// ResolutionQuery selects decisions.
type ResolutionQuery struct {
	Pending bool // only decisions not yet booked
	Owing   bool // only charges still owed
	Limit   int  // 0 means 100
}

// Waiting is an item waiting in the exceptions account for an operator.
type Waiting struct {
	Entry Entry
	// Held is what it holds in the exceptions account, signed (Resolution.Held).
	Held ledger.Amount
	// Payment is the bank's payment the entry names (its return, or the
	// payment returned); zero when none.
	Payment Payment
	// Account is the customer's account the entry names; zero when none.
	Account ledger.Account
	// Actions are what an operator may do with it.
	Actions []string
	// Pending is a decision recorded and not yet booked (its booking is
	// the worker's), nil when none.
	Pending *Resolution
}

// Errors of resolutions.
var (
	ErrResolutionNotFound = bankbridge.E(bankbridge.NotFound, "exception_not_found", "nothing waits in the ACH return exceptions account under that entry")
	ErrResolved           = bankbridge.E(bankbridge.Conflict, "exception_resolved", "this exception was settled already")
	ErrResolveAction      = bankbridge.E(bankbridge.Invalid, "resolve_action_invalid", "that is not a way to settle this exception")
	ErrResolveAccount     = bankbridge.E(bankbridge.Invalid, "resolve_account_invalid", "name an open US dollar account of a customer")
	ErrResolveReason      = bankbridge.E(bankbridge.Invalid, "reason_missing", "say why, in 1 to 500 characters a reader can see")
)

// ActionWords says a resolution action in words.
func ActionWords(action string) string {
	switch action {
	case ResolveCredit:
		return "credited to the customer"
	case ResolveCharge:
		return "charged to the customer"
	case ResolveWriteOff:
		return "written off to the bank"
	}
	return action
}

// isWaitingKind says whether entries of kind k can wait in the exceptions
// account.
func isWaitingKind(k EntryKind) bool { return k == EntryDishonor || k == EntryContest }

// Waiting lists what waits in the exceptions account, newest first.
func (s *Service) Waiting(ctx context.Context, limit int) ([]Waiting, error) {
	es, err := s.st.Entries(ctx, EntryQuery{Kinds: []EntryKind{EntryDishonor, EntryContest}, Status: []EntryStatus{EntryUnmatched}, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]Waiting, 0, len(es))
	for _, e := range es {
		w, err := s.waiting(ctx, e)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, nil
}

// WaitingItem returns one item waiting (ErrResolutionNotFound when it does
// not wait, or is not an exception).
func (s *Service) WaitingItem(ctx context.Context, f FileID, trace string, k EntryKind) (Waiting, error) {
	e, err := s.st.Entry(ctx, f, trace, k)
	if errors.Is(err, ErrEntryNotFound) || err == nil && (!isWaitingKind(e.Kind) || e.Status != EntryUnmatched) {
		return Waiting{}, ErrResolutionNotFound
	}
	if err != nil {
		return Waiting{}, err
	}
	return s.waiting(ctx, e)
}

func (s *Service) waiting(ctx context.Context, e Entry) (Waiting, error) {
	w := Waiting{Entry: e}
	var err error
	if w.Held, err = s.heldBy(ctx, e); err != nil {
		return w, err
	}
	if e.Payment != 0 {
		if w.Payment, err = s.st.Payment(ctx, e.Payment); err != nil && !errors.Is(err, ErrPaymentNotFound) {
			return w, err
		}
	}
	if e.Account != 0 {
		a, err := s.led.Store().Account(ctx, e.Account)
		if err != nil && !errors.Is(err, ledger.ErrAccountNotFound) {
			return w, err
		}
		if err == nil && a.Customer != 0 {
			w.Account = a
		}
	}
	switch {
	case w.Held > 0:
		w.Actions = []string{ResolveCredit, ResolveWriteOff}
	case w.Held < 0 && w.Account.ID != 0:
		w.Actions = []string{ResolveCharge, ResolveWriteOff}
	default:
		w.Actions = []string{ResolveWriteOff}
	}
	r, err := s.st.Resolution(ctx, e.File, e.Trace, e.Kind)
	switch {
	case err == nil:
		w.Pending = &r
	case !errors.Is(err, ErrResolutionNotFound):
		return w, err
	}
	return w, nil
}

// heldBy is what e holds in the exceptions account: the amount its
// booking posted there.
func (s *Service) heldBy(ctx context.Context, e Entry) (ledger.Amount, error) {
	if e.Transfer == 0 {
		return 0, nil
	}
	x, err := s.Exceptions(ctx)
	if err != nil {
		return 0, err
	}
	t, err := s.led.Store().Transfer(ctx, e.Transfer)
	if err != nil {
		return 0, err
	}
	var held ledger.Amount
	for _, p := range t.Postings {
		if p.Account == x.ID {
			held += p.Amount
		}
	}
	return held, nil
}

// ResolveRequest is an operator settling an item waiting.
type ResolveRequest struct {
	File   FileID
	Trace  string
	Kind   EntryKind
	Action string
	// Account, for a credit: the number of the customer's account
	// credited; empty for the entry's own.
	Account ledger.AccountNumber
	Staff   bankbridge.StaffID
	Reason  string
}

// CheckResolveReason checks an operator's reason: 1 to 500 characters a
// reader can see.
func CheckResolveReason(reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 || legible.Check(reason) != nil {
		return ErrResolveReason
	}
	return nil
}

// Resolve settles an item waiting in the exceptions account as r asks:
// the decision is recorded first, once per entry on every instance, then
// booked. A decision recorded before by the same member of staff with the
// same action is this one again (a form sent twice): it is finished and
// returned. Any other is returned with ErrResolved, and nothing changes.
func (s *Service) Resolve(ctx context.Context, r ResolveRequest) (Resolution, error) {
	if err := CheckResolveReason(r.Reason); err != nil {
		return Resolution{}, err
	}
	if r.Staff == 0 {
		return Resolution{}, ErrResolveReason.WithMessage("the member of staff deciding must be named")
	}
	prev, err := s.st.Resolution(ctx, r.File, r.Trace, r.Kind)
	switch {
	case err == nil:
		return s.again(ctx, prev, r)
	case !errors.Is(err, ErrResolutionNotFound):
		return Resolution{}, err
	}
	w, err := s.WaitingItem(ctx, r.File, r.Trace, r.Kind)
	if err != nil {
		return Resolution{}, err
	}
	if !slices.Contains(w.Actions, r.Action) {
		return Resolution{}, ErrResolveAction.WithMessage("this exception can be " + actionList(w.Actions))
	}
	res := Resolution{File: r.File, Trace: r.Trace, Kind: r.Kind, Action: r.Action, Held: w.Held, Customer: w.Entry.Customer,
		Staff: r.Staff, Reason: strings.TrimSpace(r.Reason), Decided: s.o.Now()}
	switch r.Action {
	case ResolveCredit:
		a := w.Account
		if r.Account != "" && r.Account != a.Number {
			if a, err = s.st.AccountByNumber(ctx, r.Account); err != nil && !errors.Is(err, ledger.ErrAccountNotFound) {
				return Resolution{}, err
			}
		}
		if a.ID == 0 || a.Customer == 0 || a.Currency != "USD" || a.Status == ledger.Closed {
			return Resolution{}, ErrResolveAccount
		}
		res.Account, res.Customer = a.ID, a.Customer
	case ResolveCharge:
		res.Account, res.Customer = w.Account.ID, w.Account.Customer
	}
	got, created, err := s.st.DecideResolution(ctx, res)
	if err != nil {
		return Resolution{}, err
	}
	if !created {
		return s.again(ctx, got, r)
	}
	return s.finishResolution(ctx, got)
}

// again answers a request that found a decision recorded: the same
// member of staff and action is the same request (finished, returned);
// anything else is another's decision.
func (s *Service) again(ctx context.Context, prev Resolution, r ResolveRequest) (Resolution, error) {
	if prev.Staff != r.Staff || prev.Action != r.Action {
		return prev, ErrResolved
	}
	return s.finishResolution(ctx, prev)
}

func actionList(as []string) string {
	words := make([]string, len(as))
	for i, a := range as {
		words[i] = ActionWords(a)
	}
	return strings.Join(words, " or ")
}

// finishResolution books a decision and marks its entry resolved. Its
// transfer is keyed by the entry, so booking it again (a form sent twice,
// a worker after a crash) moves the money once.
func (s *Service) finishResolution(ctx context.Context, r Resolution) (Resolution, error) {
	if !r.Done.IsZero() {
		return r, nil
	}
	x, err := s.Exceptions(ctx)
	if err != nil {
		return r, err
	}
	var other ledger.Account
	what := fmt.Sprintf("ACH exception (%s %s, trace %s)", r.Kind, ActionWords(r.Action), r.Trace)
	switch r.Action {
	case ResolveCredit:
		other.ID, what = r.Account, "ACH return exception settled: money returned to you (trace "+r.Trace+")"
	case ResolveCharge:
		// The receivable pays the exceptions account; the customer owes it
		// (the overdraft-on-return rule), taken below from what the
		// account can spend.
		if other, err = s.Receivable(ctx); err != nil {
			return r, err
		}
		r.Owed = -r.Held
	case ResolveWriteOff:
		if other, err = s.WriteOffs(ctx); err != nil {
			return r, err
		}
	default:
		return r, ErrResolveAction
	}
	if r.Held != 0 {
		t, _, err := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: fmt.Sprintf("xres:%d:%s:%s", r.File, r.Trace, r.Kind),
			Currency: "USD", Description: what, Category: "transfer",
			Postings: []ledger.Posting{{Account: x.ID, Amount: -r.Held}, {Account: other.ID, Amount: r.Held}}})
		if err != nil {
			if k := bankbridge.ErrorKind(err); k == bankbridge.Unprocessable || k == bankbridge.Conflict {
				// The ledger refused it (the account closed meanwhile):
				// nothing moved; the item waits again for a decision.
				if _, cerr := s.st.CancelResolution(ctx, r.File, r.Trace, r.Kind); cerr != nil {
					return r, cerr
				}
			}
			return r, err
		}
		r.Transfer = t.ID
	}
	r.Done = s.o.Now()
	note := fmt.Sprintf("; settled by an operator (staff:%d): %s", r.Staff, ActionWords(r.Action))
	if _, err := s.st.FinishResolution(ctx, r, note); err != nil {
		return r, err
	}
	got, err := s.st.Resolution(ctx, r.File, r.Trace, r.Kind)
	if err != nil {
		return r, err
	}
	if got.Owed > 0 {
		if _, err := s.recoverDebt(ctx, resolutionDebtor(s, got)); err != nil {
			return got, err
		}
		return s.st.Resolution(ctx, r.File, r.Trace, r.Kind)
	}
	return got, nil
}

// FinishResolutions books the decisions whose instance died before
// booking them; the rails worker calls it each cycle.
func (s *Service) FinishResolutions(ctx context.Context) (int, error) {
	rs, err := s.st.Resolutions(ctx, ResolutionQuery{Pending: true, Limit: 100})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range rs {
		if _, err := s.finishResolution(ctx, r); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// resolutionDebtor is a charged exception as the overdraft-on-return rule
// takes its debt.
func resolutionDebtor(s *Service, r Resolution) debtor {
	return debtor{key: fmt.Sprintf("xrecover:%d:%s:%s", r.File, r.Trace, r.Kind), account: r.Account, currency: "USD",
		what: "ACH return exception charged to you: amount owed (trace " + r.Trace + ")", debt: Debt{Owed: r.Owed, Recovering: r.Recovering},
		set: func(ctx context.Context, from, to Debt) (bool, error) {
			return s.st.SetResolutionDebt(ctx, r.File, r.Trace, r.Kind, from, to)
		}}
}
