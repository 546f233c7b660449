package ledger

import (
	"cmp"
	"slices"
	"time"
)

// Snapshot is what a store read, under lock, before deciding a batch: the
// accounts the batch touches, the transfers already stored under the batch's
// idempotency keys, and the pending transfers it posts or voids.
type Snapshot struct {
	Accounts map[AccountID]*Account
	Existing map[Key]Stored
	Targets  map[TransferID]*Transfer
}

// Plan is the decision for a batch: each op's result, the rows to write and
// the accounts whose balances changed (their new values are in the Snapshot).
type Plan struct {
	Results []Result
	New     []NewTransfer
	Changes []StatusChange
	Touched []AccountID // ascending
	// mirrors lists results that replay a transfer created earlier in the
	// same batch: Results[i] takes New[j]'s id once assigned.
	mirrors map[int]int
}

// NewTransfer is a transfer to insert; its ID is zero until SetIDs.
type NewTransfer struct {
	Result   int // index in Plan.Results
	Transfer Transfer
	Hash     [32]byte
}

// StatusChange moves a pending transfer to posted or voided.
type StatusChange struct {
	ID     TransferID
	Status TransferStatus
	At     time.Time
}

// Accounts lists the accounts ops need, for the store to lock in ascending
// order: those named by create requests and by the targets of post and void.
func Accounts(ops []Op, targets map[TransferID]*Transfer) []AccountID {
	var ids []AccountID
	for _, op := range ops {
		if op.Kind == OpCreate {
			for _, p := range op.Request.Postings {
				ids = append(ids, p.Account)
			}
		} else if t := targets[op.Transfer]; t != nil {
			for _, p := range t.Postings {
				ids = append(ids, p.Account)
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Decide applies ops in order to the snapshot, mutating its accounts and
// targets, and returns the plan. It is the single place where the ledger's
// rules are enforced for every engine.
func Decide(ops []Op, s Snapshot, now time.Time) *Plan {
	// Stores keep microseconds; deciding on microseconds makes what Apply
	// returns equal to what a later read returns.
	now = now.UTC().Truncate(time.Microsecond)
	p := &Plan{Results: make([]Result, len(ops))}
	touched := map[AccountID]bool{}
	inBatch := map[Key]int{} // key -> index in p.New
	for i, op := range ops {
		switch op.Kind {
		case OpCreate:
			p.Results[i] = p.create(i, op, s, now, inBatch, touched)
		case OpPost, OpVoid:
			p.Results[i] = p.settle(op, s, now, touched)
		}
	}
	for id := range touched {
		p.Touched = append(p.Touched, id)
	}
	slices.Sort(p.Touched)
	return p
}

func (p *Plan) create(i int, op Op, s Snapshot, now time.Time, inBatch map[Key]int, touched map[AccountID]bool) Result {
	r := op.Request
	k := Key{r.Client, r.Key}
	if st, ok := s.Existing[k]; ok {
		if st.Hash != op.Hash {
			return Result{Err: ErrKeyReused}
		}
		return Result{Transfer: st.Transfer, Replayed: true}
	}
	if j, ok := inBatch[k]; ok {
		if p.New[j].Hash != op.Hash {
			return Result{Err: ErrKeyReused}
		}
		if p.mirrors == nil {
			p.mirrors = map[int]int{}
		}
		p.mirrors[i] = j
		return Result{Transfer: p.New[j].Transfer, Replayed: true}
	}
	// Check every posting before changing anything, so a refusal leaves the
	// snapshot as it was.
	type change struct {
		a             *Account
		balance, held Amount
	}
	changes := make([]change, 0, len(r.Postings))
	for _, q := range r.Postings {
		a := s.Accounts[q.Account]
		if a == nil {
			return Result{Err: ErrAccountNotFound}
		}
		if a.Currency != r.Currency {
			return Result{Err: ErrCurrencyMismatch}
		}
		if a.Status == Closed {
			return Result{Err: ErrAccountClosed}
		}
		c := change{a: a, balance: a.Balance, held: a.Held}
		var ok bool
		switch {
		case q.Amount < 0 && a.Status == Frozen:
			return Result{Err: ErrAccountFrozen}
		case r.Pending && q.Amount < 0:
			c.held, ok = c.held.Add(-q.Amount)
		case r.Pending:
			ok = true // credits of a hold move nothing until it posts
		default:
			c.balance, ok = c.balance.Add(q.Amount)
		}
		if !ok {
			return Result{Err: ErrOverflow}
		}
		if q.Amount < 0 && !a.Unbounded {
			avail, ok := c.balance.Add(-c.held)
			if !ok {
				return Result{Err: ErrOverflow}
			}
			if avail < -a.Limit {
				return Result{Err: ErrInsufficientFunds}
			}
		}
		changes = append(changes, c)
	}
	for _, c := range changes {
		c.a.Balance, c.a.Held = c.balance, c.held
		touched[c.a.ID] = true
	}
	at := now
	if !r.At.IsZero() {
		at = r.At.UTC().Truncate(time.Microsecond)
	}
	t := Transfer{Client: r.Client, Key: r.Key, Currency: r.Currency,
		Postings: SortPostings(slices.Clone(r.Postings)), Description: r.Description, Merchant: r.Merchant,
		Category: r.Category, Status: Posted, Created: at, Posted: at}
	if r.Pending {
		t.Status, t.Posted = Pending, time.Time{}
	}
	inBatch[k] = len(p.New)
	p.New = append(p.New, NewTransfer{Result: i, Transfer: t, Hash: op.Hash})
	return Result{Transfer: t}
}

func (p *Plan) settle(op Op, s Snapshot, now time.Time, touched map[AccountID]bool) Result {
	t := s.Targets[op.Transfer]
	if t == nil {
		return Result{Err: ErrTransferNotFound}
	}
	want := Posted
	if op.Kind == OpVoid {
		want = Voided
	}
	switch {
	case t.Status == want:
		return Result{Transfer: *t, Replayed: true}
	case t.Status != Pending:
		return Result{Err: ErrNotPending}
	}
	// The hold already reserved the debits, so posting cannot break a limit;
	// it can only overflow a credit.
	for _, q := range t.Postings {
		a := s.Accounts[q.Account]
		if a == nil {
			return Result{Err: ErrAccountNotFound}
		}
		if want == Posted {
			if _, ok := a.Balance.Add(q.Amount); !ok {
				return Result{Err: ErrOverflow}
			}
		}
	}
	for _, q := range t.Postings {
		a := s.Accounts[q.Account]
		if q.Amount < 0 {
			a.Held += q.Amount // releases the hold: Held was raised by -q.Amount
		}
		if want == Posted {
			a.Balance += q.Amount
		}
		touched[a.ID] = true
	}
	t.Status = want
	if want == Posted {
		t.Posted = now
	} else {
		t.Voided = now
	}
	p.Changes = append(p.Changes, StatusChange{ID: t.ID, Status: want, At: now})
	return Result{Transfer: *t}
}

// SetIDs gives the new transfers the ids the store assigned, in order, and
// copies them into their results.
func (p *Plan) SetIDs(ids []TransferID) {
	for j := range p.New {
		p.New[j].Transfer.ID = ids[j]
		p.Results[p.New[j].Result].Transfer.ID = ids[j]
	}
	for i, j := range p.mirrors {
		p.Results[i].Transfer.ID = ids[j]
	}
}

// SortPostings orders postings as stores read them back: debits first, by
// amount, then by account. Transfers carry them in this order everywhere.
func SortPostings(ps []Posting) []Posting {
	slices.SortFunc(ps, func(a, b Posting) int {
		if a.Amount != b.Amount {
			return cmp.Compare(a.Amount, b.Amount)
		}
		return cmp.Compare(a.Account, b.Account)
	})
	return ps
}
