package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"github.com/bankbridge/bankbridge"
)

// TransferID identifies a transfer. IDs grow with time within one database.
type TransferID int64

// TransferStatus is the life-cycle state of a transfer.
type TransferStatus string

// Transfer states. Pending transfers are holds.
const (
	Pending TransferStatus = "pending"
	Posted  TransferStatus = "posted"
	Voided  TransferStatus = "voided"
)

// Posting moves Amount into (positive, a credit) or out of (negative, a debit)
// one account. The postings of a transfer sum to zero.
type Posting struct {
	Account AccountID
	Amount  Amount
}

// Transfer is one movement of money, recorded once and never edited except for
// its status (pending -> posted or voided).
type Transfer struct {
	ID          TransferID
	Client      string // who sent it: "web", "bench", a partner id; scopes Key
	Key         string // idempotency key, unique per Client
	Currency    Currency
	Postings    []Posting
	Description string
	Merchant    MerchantID
	Category    string
	Status      TransferStatus
	Created     time.Time
	Posted      time.Time // zero unless posted
	Voided      time.Time // zero unless voided
}

// Amount returns the sum of the transfer's credits: the money it moves.
func (t Transfer) Amount() Amount {
	var s Amount
	for _, p := range t.Postings {
		if p.Amount > 0 {
			s += p.Amount
		}
	}
	return s
}

// Request asks for a transfer. Client and Key make it idempotent.
type Request struct {
	Client      string
	Key         string
	Currency    Currency
	Postings    []Posting
	Description string
	Merchant    MerchantID
	Category    string
	// Pending makes the transfer a hold, to be posted or voided later.
	Pending bool
	// At back-dates the transfer; only trusted internal callers (the demo seed)
	// set it. Zero means now.
	At time.Time
}

// Move is the common two-legged request: amount from one account to another.
func Move(client, key string, from, to AccountID, amt Amount, cur Currency, desc string) Request {
	return Request{Client: client, Key: key, Currency: cur, Description: desc,
		Postings: []Posting{{from, -amt}, {to, amt}}}
}

// Hash returns a digest of everything the request asks for except its key, so
// a replay with another body can be told from a true retry.
func (r Request) Hash() [32]byte {
	h := sha256.New()
	var b [8]byte
	put := func(v int64) { binary.BigEndian.PutUint64(b[:], uint64(v)); h.Write(b[:]) }
	str := func(s string) { put(int64(len(s))); h.Write([]byte(s)) }
	str(string(r.Currency))
	put(int64(len(r.Postings)))
	for _, p := range r.Postings {
		put(int64(p.Account))
		put(int64(p.Amount))
	}
	str(r.Description)
	put(int64(r.Merchant))
	str(r.Category)
	if r.Pending {
		put(1)
	} else {
		put(0)
	}
	return [32]byte(h.Sum(nil))
}

// Errors a transfer can end with. Each is compared with errors.Is.
var (
	ErrInvalidRequest    = bankbridge.E(bankbridge.Invalid, "transfer_invalid", "the transfer request is not valid")
	ErrCurrency          = bankbridge.E(bankbridge.Invalid, "currency_invalid", "the currency is not one the bank books")
	ErrCurrencyMismatch  = bankbridge.E(bankbridge.Invalid, "currency_mismatch", "an account's currency differs from the transfer's")
	ErrUnbalanced        = bankbridge.E(bankbridge.Invalid, "transfer_unbalanced", "the postings do not sum to zero")
	ErrSameAccount       = bankbridge.E(bankbridge.Invalid, "same_account", "a transfer cannot move money from an account to itself")
	ErrAccountNotFound   = bankbridge.E(bankbridge.NotFound, "account_not_found", "no such account")
	ErrAccountFrozen     = bankbridge.E(bankbridge.Conflict, "account_frozen", "the account is frozen")
	ErrAccountClosed     = bankbridge.E(bankbridge.Conflict, "account_closed", "the account is closed")
	ErrInsufficientFunds = bankbridge.E(bankbridge.Unprocessable, "insufficient_funds", "the account does not have enough available funds")
	ErrKeyReused         = bankbridge.E(bankbridge.Conflict, "idempotency_key_reused", "this idempotency key was used for a different request")
	ErrTransferNotFound  = bankbridge.E(bankbridge.NotFound, "transfer_not_found", "no such transfer")
	ErrNotPending        = bankbridge.E(bankbridge.Conflict, "transfer_not_pending", "the transfer is not pending")
	ErrOverflow          = bankbridge.E(bankbridge.Unprocessable, "amount_overflow", "the amount would overflow a balance")
	ErrBusy              = bankbridge.E(bankbridge.Unavailable, "ledger_busy", "the ledger is busy; retry with the same idempotency key")
)

// Validate checks what can be checked without the database: key, currency,
// postings summing to zero, distinct accounts, positive amounts.
func (r Request) Validate() error {
	switch {
	case r.Client == "" || r.Key == "" || len(r.Key) > 128 || len(r.Client) > 64:
		return ErrInvalidRequest.WithMessage("an idempotency key of 1 to 128 characters is required")
	case !r.Currency.Valid():
		return ErrCurrency
	case len(r.Postings) < 2 || len(r.Postings) > 16:
		return ErrInvalidRequest.WithMessage("a transfer has 2 to 16 postings")
	case len(r.Description) > 200 || len(r.Category) > 64:
		return ErrInvalidRequest.WithMessage("the description or category is too long")
	}
	var sum Amount
	hasDebit := false
	for i, p := range r.Postings {
		if p.Amount == 0 {
			return ErrAmountNegative
		}
		if p.Amount < 0 {
			hasDebit = true
		}
		var ok bool
		if sum, ok = sum.Add(p.Amount); !ok {
			return ErrOverflow
		}
		for _, q := range r.Postings[:i] {
			if q.Account == p.Account {
				return ErrSameAccount
			}
		}
	}
	if sum != 0 || !hasDebit {
		return ErrUnbalanced
	}
	return nil
}
