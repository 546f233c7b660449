package rails

import (
	"context"

	"github.com/bankbridge/bankbridge/ledger"
)

// Reconciliation is the rail's books beside the ledger's: what was sent,
// settled and returned, what came in, and the settlement account's balance
// against what those imply.
type Reconciliation struct {
	Totals []Total
	// Settlement is the ACH settlement account as the ledger has it.
	Settlement ledger.Account
	// Expected is what its balance must be: the payments settled (and not
	// returned) less the inbound credits posted. Returns after settlement
	// net to zero; holds do not move a posted balance.
	Expected ledger.Amount
	// Difference is Settlement.Balance - Expected; zero when the books agree.
	Difference ledger.Amount
	// Outstanding is the money held for payments not yet settled.
	Outstanding ledger.Amount
	// Unmatched is inbound credits the operator settled to the bank that
	// matched no open account and whose return has not settled yet: not
	// posted, owed back to their originators (the operator's position
	// counts them; the ledger does not).
	Unmatched ledger.Amount
	// Receivable is the ACH return receivable and Owed what customers owe
	// on debits returned after they spent the money: the receivable's
	// balance is -Owed when the books agree (ReceivableDifference zero).
	Receivable           ledger.Account
	Owed                 ledger.Amount
	ReceivableDifference ledger.Amount
	// Exceptions is the ACH return exceptions account: money moved with
	// the operator by returns the bank dishonoured, dishonours of its
	// returns, and contests, until the other side's entry settles it
	// (dishonor.go). The settlement account's expected balance counts it.
	Exceptions ledger.Account
	// Waiting is what waits in the exceptions account for an operator
	// (dishonours accepted, contests final, unmatched): how many, and their
	// amount as received. Resolved is what operators settled (resolve.go):
	// how many, and what they held there, signed.
	Waiting  Total
	Resolved Total
}

// Reconcile compares the rail's totals with the settlement account.
func (s *Service) Reconcile(ctx context.Context) (Reconciliation, error) {
	ts, err := s.st.Totals(ctx)
	if err != nil {
		return Reconciliation{}, err
	}
	a, err := s.Settlement(ctx)
	if err != nil {
		return Reconciliation{}, err
	}
	recv, err := s.Receivable(ctx)
	if err != nil {
		return Reconciliation{}, err
	}
	x, err := s.Exceptions(ctx)
	if err != nil {
		return Reconciliation{}, err
	}
	r := Reconciliation{Totals: ts, Settlement: a, Receivable: recv, Exceptions: x,
		Waiting: Total{What: "waiting"}, Resolved: Total{What: "resolved"}}
	// Each exception moves the settlement account one way and the
	// exceptions account the other.
	r.Expected -= x.Balance
	for _, t := range ts {
		switch {
		case t.What == "payment" && t.Status == string(StatusSettled):
			r.Expected += t.Amount
		case t.What == "payment" && (t.Status == string(StatusAccepted) || t.Status == string(StatusBatched) ||
			t.Status == string(StatusSent) || t.Status == string(StatusHeld)):
			r.Outstanding += t.Amount
		case t.What == "core" && t.Status == string(StatusSent):
			r.Outstanding += t.Amount
		case t.What == "core":
			// Settled through the core (mirror mode): the core's debit is
			// posted to its own settlement account, and 'mirror reconcile'
			// holds it; the ACH settlement account never saw it.
		case t.What == "entry:"+string(EntryCredit) && t.Status == string(EntryPosted):
			r.Expected -= t.Amount
		case t.What == "entry:"+string(EntryCredit) && t.Status == string(EntryUnmatched):
			r.Unmatched += t.Amount
		case t.What == "return" && t.Status == string(StatusSettled):
			r.Unmatched -= t.Amount // given back: the operator's position no longer counts it
		case t.What == string(KindDebit) && t.Status == string(StatusSettled):
			r.Expected -= t.Amount // collected: the settlement account paid the customer
		case t.What == "entry:"+string(EntryDebit) && t.Status == string(EntryPosted):
			r.Expected += t.Amount
		case t.What == "entry:"+string(EntryDebit) && t.Status == string(EntryReturned):
			// Debits the operator took from the bank that the ledger did
			// not post (or refunded): owed back to the bank until their
			// return settles.
			r.Unmatched -= t.Amount
		case t.What == string(KindDebitReturn) && t.Status == string(StatusSettled):
			r.Unmatched += t.Amount
		case t.What == "entry:"+string(EntryInstant) && t.Status == string(EntryPosted):
			r.Expected -= t.Amount // instant credits the settlement account paid in
		case t.What == "entry:"+string(EntryDishonor) && t.Status == string(EntryPosted):
			// A dishonour of the bank's return of an inbound debit,
			// accepted: the debit stands, and the account paid it.
			r.Expected += t.Amount
		case t.What == "entry:"+string(EntryDishonor) && t.Status == string(EntryUnmatched),
			t.What == "entry:"+string(EntryContest) && t.Status == string(EntryUnmatched):
			r.Waiting.Count += t.Count
			r.Waiting.Amount += t.Amount
		case t.What == "resolved":
			// Settled by an operator: what they held left the exceptions
			// account for a customer, the receivable or the written-off
			// account, and the settlement account never saw it.
			r.Expected -= t.Amount
			r.Resolved.Count += t.Count
			r.Resolved.Amount += t.Amount
		case t.What == "owed":
			r.Owed += t.Amount
		}
	}
	r.Difference = a.Balance - r.Expected
	r.ReceivableDifference = recv.Balance + r.Owed
	return r, nil
}
