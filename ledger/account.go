package ledger

import (
	"time"

	"github.com/bankbridge/bankbridge"
)

// AccountID identifies a ledger account. Internal: partners never see it.
type AccountID int64

// AccountKind says what an account is for.
type AccountKind string

// The kinds of account. Internal accounts are the bank's own (settlement, card
// clearing, fees, interest) and belong to no customer.
const (
	Checking   AccountKind = "checking"
	Savings    AccountKind = "savings"
	CreditCard AccountKind = "credit_card"
	Internal   AccountKind = "internal"
)

// Valid reports whether k is a known kind.
func (k AccountKind) Valid() bool {
	switch k {
	case Checking, Savings, CreditCard, Internal:
		return true
	}
	return false
}

// AccountStatus is the life-cycle state of an account.
type AccountStatus string

// Account states. A frozen account can receive money but not send it; a closed
// one does neither.
const (
	Open   AccountStatus = "open"
	Frozen AccountStatus = "frozen"
	Closed AccountStatus = "closed"
)

// Account is a ledger account. Balances are from the holder's side: positive
// means the holder has money; a credit card's negative balance is what is owed.
type Account struct {
	ID       AccountID
	Customer bankbridge.CustomerID // 0 for the bank's own accounts
	Kind     AccountKind
	Name     string // "Everyday checking", "Settlement"
	Currency Currency
	Status   AccountStatus
	Number   AccountNumber // full number; shown masked
	Routing  string        // ABA routing number of the bank
	// Limit is how far below zero the available balance may go: the overdraft
	// of a deposit account, the credit limit of a card. Never negative.
	Limit Amount
	// Unbounded accounts (settlement) may go below zero without limit.
	Unbounded bool
	Balance   Amount // current (posted) balance
	Held      Amount // sum of pending debits (holds), never negative
	OpenedAt  time.Time
}

// Available returns the balance less holds.
func (a Account) Available() Amount { return a.Balance - a.Held }

// Spendable returns what the holder can still spend, counting the overdraft
// or credit limit: a card's "available credit".
func (a Account) Spendable() Amount { return a.Balance - a.Held + a.Limit }

// CardStatus is the state of a payment card.
type CardStatus string

// Card states.
const (
	CardActive CardStatus = "active"
	CardFrozen CardStatus = "frozen"
)

// CardID identifies a payment card.
type CardID int64

// Card is a payment card drawing on an account.
type Card struct {
	ID       CardID
	Account  AccountID
	Customer bankbridge.CustomerID
	Last4    string
	Network  string // visa, mastercard
	Status   CardStatus
	Created  time.Time
}

// PayeeID identifies a payee saved by a customer.
type PayeeID int64

// Payee is someone a customer pays. Internal payees hold an account at this
// bank (Account != 0); external ones carry a routing and account number.
type Payee struct {
	ID       PayeeID
	Customer bankbridge.CustomerID
	Name     string
	Nickname string // "mom", "Sam"
	Account  AccountID
	Routing  string
	Number   AccountNumber
	Created  time.Time
}

// MerchantID identifies a merchant.
type MerchantID int64

// Merchant is a card acceptor, with its ISO 18245 merchant category code.
type Merchant struct {
	ID       MerchantID
	Name     string
	MCC      string // "5411"
	Category string // "groceries"
	City     string
	Country  string
}

// Errors of the reference data.
var (
	ErrMerchantNotFound = bankbridge.E(bankbridge.NotFound, "merchant_not_found", "no such merchant")
	ErrCardNotFound     = bankbridge.E(bankbridge.NotFound, "card_not_found", "no such card")
)

// Validate checks an account before it is opened: a known kind, currency and
// status, a number, a limit that is not negative.
func (a Account) Validate() error {
	switch {
	case !a.Kind.Valid():
		return bankbridge.E(bankbridge.Invalid, "account_kind_invalid", "unknown account kind")
	case !a.Currency.Valid():
		return ErrCurrency
	case a.Number == "":
		return bankbridge.E(bankbridge.Invalid, "account_number_required", "an account number is required")
	case a.Limit < 0:
		return bankbridge.E(bankbridge.Invalid, "account_limit_invalid", "a limit cannot be negative")
	}
	switch a.Status {
	case "", Open, Frozen, Closed:
		return nil
	}
	return bankbridge.E(bankbridge.Invalid, "account_status_invalid", "unknown account status")
}
