package ledger

import (
	"context"
	"time"

	"github.com/bankbridge/bankbridge"
)

// Store keeps the ledger. Implementations live in store/sqlite and
// store/postgres and pass the same conformance suite (store/storetest.Ledger).
//
// Contract common to every method: unknown ids answer an error matching the
// package's NotFound errors (ErrAccountNotFound, ErrTransferNotFound...);
// driver errors are wrapped and never leak their text to users.
type Store interface {
	// Apply runs ops in one database transaction and returns one Result per
	// op, in order. Each op keeps its own outcome: one refused op does not
	// fail the others. Apply returns an error only when nothing was written.
	// Implementations lock the accounts they touch in ascending id order and
	// decide outcomes with Plan, so every engine applies the same rules.
	Apply(ctx context.Context, ops []Op, now time.Time) ([]Result, error)

	// CreateAccount opens a ledger account with a zero balance and returns it
	// with its id. Number must be unique (ErrDuplicate otherwise).
	CreateAccount(ctx context.Context, a Account) (Account, error)
	// Account returns one account with its current balances.
	Account(ctx context.Context, id AccountID) (Account, error)
	// CustomerAccounts lists a customer's accounts by id.
	CustomerAccounts(ctx context.Context, c bankbridge.CustomerID) ([]Account, error)
	// SetAccountStatus freezes, unfreezes or closes an account.
	SetAccountStatus(ctx context.Context, id AccountID, s AccountStatus) error

	// Transfer returns one transfer with its postings.
	Transfer(ctx context.Context, id TransferID) (Transfer, error)
	// History returns one page of an account's transfers, newest first, by
	// keyset (never OFFSET), so deep pages cost what the first one does.
	History(ctx context.Context, q HistoryQuery) (HistoryPage, error)

	// Verify folds every posting and checks it against the stored balances,
	// that every transfer sums to zero, that every currency sums to zero and
	// that no account is past its limit.
	Verify(ctx context.Context) (Report, error)

	// Events returns the outbox: up to limit events (0 means 1,000; at most
	// 10,000) with a sequence greater than after, in ascending sequence.
	// Apply writes a committed batch's events in the batch's own
	// transaction, one per transfer created and one per pending transfer
	// posted or voided; a refused op, a replay or a failed batch writes
	// none. Sequences grow in commit order, so a reader that remembers the
	// last sequence it handled and asks for what follows misses nothing:
	// no event at or below a sequence already returned commits later.
	// Sequences may have gaps. Events are kept until pruned by an operator.
	Events(ctx context.Context, after EventSeq, limit int) ([]Event, error)

	CreateMerchant(ctx context.Context, m Merchant) (Merchant, error)
	Merchant(ctx context.Context, id MerchantID) (Merchant, error)
	CreateCard(ctx context.Context, c Card) (Card, error)
	CustomerCards(ctx context.Context, c bankbridge.CustomerID) ([]Card, error)
	SetCardStatus(ctx context.Context, id CardID, s CardStatus) error
	CreatePayee(ctx context.Context, p Payee) (Payee, error)
	Payees(ctx context.Context, c bankbridge.CustomerID) ([]Payee, error)
}

// ErrDuplicate reports a unique value (account number, payee nickname) taken.
var ErrDuplicate = bankbridge.E(bankbridge.Conflict, "duplicate", "that value is already in use")

// OpKind says what an Op does.
type OpKind uint8

// The kinds of Op.
const (
	OpCreate OpKind = iota // create a transfer (posted, or pending when Request.Pending)
	OpPost                 // post a pending transfer: the hold becomes a movement
	OpVoid                 // void a pending transfer: the hold is released
)

// Op is one request inside a batch given to Store.Apply.
type Op struct {
	Kind     OpKind
	Request  Request    // OpCreate
	Hash     [32]byte   // OpCreate: Request.Hash(), computed off the database path
	Transfer TransferID // OpPost, OpVoid
}

// Result is the outcome of one Op.
type Result struct {
	Transfer Transfer
	Replayed bool // the key was seen before with the same request; nothing moved now
	Err      error
}

// Key scopes an idempotency key to its client.
type Key struct{ Client, Key string }

// Stored is a transfer as kept, with the hash of the request that made it.
type Stored struct {
	Transfer Transfer
	Hash     [32]byte
}

// HistoryQuery selects a page of an account's history.
type HistoryQuery struct {
	Account AccountID
	Limit   int       // 1..500; 0 means 50
	After   *Cursor   // the page after this cursor (older entries)
	From    time.Time // inclusive; zero for unbounded
	To      time.Time // exclusive; zero for unbounded
	Search  string    // case-insensitive substring of the description
	// Lang is the language the customer reads descriptions in ("es", or
	// "" for English): Search matches the description as DescriptionIn
	// shows it in Lang, so "Pago programado" finds "Scheduled payment to
	// Sam" for a Spanish customer, and the English words they never see do
	// not match. Case is folded as the engine folds it: ASCII letters on
	// SQLite, all letters on PostgreSQL.
	Lang   string
	Status TransferStatus
}

// Cursor marks a position in an account's history (newest first).
type Cursor struct {
	At time.Time
	ID TransferID
}

// Entry is one line of an account's history.
type Entry struct {
	Transfer Transfer // without postings
	Amount   Amount   // signed, as it affects this account
}

// HistoryPage is a page of history; Next is nil on the last page.
type HistoryPage struct {
	Entries []Entry
	Next    *Cursor
}

// Report is what Verify found.
type Report struct {
	Accounts  int
	Transfers int
	Postings  int
	Problems  []string // empty when the ledger is sound
}

// OK reports whether Verify found nothing wrong.
func (r Report) OK() bool { return len(r.Problems) == 0 }
