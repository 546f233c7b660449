package rails

import (
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/moov-io/ach"
)

// PaymentID identifies a payment over the rails.
type PaymentID int64

// Status is where a payment is in its life.
type Status string

// Payment states, in order of life. A payment is new for the instant
// between its record and its hold; held while a compliance officer reviews a
// sanctions hit (the funds are held too); accepted once its funds are held;
// batched once a file carries it; sent once the operator took the file;
// settled once the operator confirmed it; returned when the receiving bank
// sent it back (the money is back with the customer); refused when it never
// left (funds short, or a compliance officer rejected it).
const (
	StatusNew      Status = "new"
	StatusHeld     Status = "held"
	StatusAccepted Status = "accepted"
	StatusBatched  Status = "batched"
	StatusSent     Status = "sent"
	StatusSettled  Status = "settled"
	StatusReturned Status = "returned"
	StatusRefused  Status = "refused"
)

// Words says a status in plain words for the customer.
func (s Status) Words() string {
	switch s {
	case StatusNew, StatusAccepted:
		return "Scheduled: the money is set aside and leaves with the next file"
	case StatusHeld:
		return "On hold: the bank is checking this payment before it leaves"
	case StatusBatched:
		return "Leaving: the payment is in a file for the payment network"
	case StatusSent:
		return "Sent: the payment network has it"
	case StatusSettled:
		return "Settled: the money reached the other bank"
	case StatusReturned:
		return "Returned: the money is back in your account"
	case StatusRefused:
		return "Not sent: no money left your account"
	}
	return string(s)
}

// Kind is what an entry does.
type Kind string

// Kinds of outbound entry.
const (
	KindCredit  Kind = "credit"  // money to the payee
	KindPrenote Kind = "prenote" // a zero-amount entry that checks the payee's account
	KindReturn  Kind = "return"  // an inbound credit the bank returns (no such account, closed)
	// KindDebit pulls money from the payee's account at another bank into
	// the customer's account here, on the customer's authorisation.
	KindDebit Kind = "debit"
	// KindDebitReturn is an inbound debit the bank returns: funds short
	// (R01), no account (R03), closed (R02), frozen (R16), or the customer
	// says they never authorised it (R10).
	KindDebitReturn Kind = "debit_return"
)

// Payment is one outbound ACH entry and its state.
type Payment struct {
	ID       PaymentID
	Customer bankbridge.CustomerID
	Payee    ledger.PayeeID
	Kind     Kind
	// Channel and Key make the payment idempotent per customer: the same
	// key again returns this payment.
	Channel  string
	Key      string
	From     ledger.AccountID
	Amount   ledger.Amount
	Currency ledger.Currency
	// The receiver as the entry carries it, copied from the payee when the
	// payment was made, so a payee edited or deleted later changes nothing.
	Name    string
	Routing string
	Number  ledger.AccountNumber
	Type    AccountType
	Memo    string
	SameDay bool
	// Effective is the date (UTC midnight) the entry settles on.
	Effective time.Time
	Status    Status
	Hold      ledger.TransferID // the pending transfer; 0 for a prenote
	Reversal  ledger.TransferID // the transfer that gave the money back, on return
	File      FileID
	Trace     string // the entry's trace number, once in a file
	// ReturnCode and Reason are the receiving bank's return (R01...),
	// Reason in plain words; Screen names the sanctions list entry hit.
	ReturnCode string
	Reason     string
	Screen     string
	Created    time.Time
	Updated    time.Time
	// SEC is a debit's Standard Entry Class code (PPD, WEB) and
	// Authorization the customer's authorisation as the bank recorded it.
	SEC           string
	Authorization string
	// Settled is when the payment settled: a debit's return windows run
	// from it.
	Settled time.Time
	// Owed is what a debit's return could not take back from the
	// customer's account (the money was spent): the customer owes it to the
	// bank, which takes it from the next money in (docs/rails.md, "Debits").
	Owed ledger.Amount
	// Recovering is the part of Owed being taken from the account now:
	// decided and recorded before the transfer that takes it.
	Recovering ledger.Amount
	// Recall is where a request to return this instant payment is
	// (RecallRequested...), RecallNote its reason or answer in words.
	Recall     string
	RecallNote string
}

// Debt is what a returned debit left owed, and the part of it being taken.
type Debt struct{ Owed, Recovering ledger.Amount }

// Errors of payments.
var (
	ErrPaymentNotFound = bankbridge.E(bankbridge.NotFound, "payment_not_found", "no such payment")
	ErrAmount          = bankbridge.E(bankbridge.Invalid, "amount_invalid", "the amount must be greater than zero")
	ErrSameDayLimit    = bankbridge.E(bankbridge.Unprocessable, "same_day_limit_exceeded", "a same-day ACH payment can be at most 1,000,000.00")
	ErrKeyReused       = bankbridge.E(bankbridge.Conflict, "idempotency_key_reused", "this idempotency key was used for a different payment")
	ErrNotHeld         = bankbridge.E(bankbridge.Conflict, "payment_not_held", "the payment is not on hold for review")
	ErrCurrency        = bankbridge.E(bankbridge.Invalid, "currency_unsupported", "ACH payments are in US dollars only")
)

// SameDayLimit is the largest same-day ACH entry: $1,000,000 since March 18,
// 2022 (NACHA, "Same Day ACH: Moving Payments Faster (Phase 3)",
// https://www.nacha.org/rules/same-day-ach-moving-payments-faster-phase-3).
const SameDayLimit ledger.Amount = 1_000_000_00

// ReturnWords says a return reason code in plain words for the customer;
// codes not listed here take moov-io/ach's reason title (NACHA Operating
// Rules, Appendix Four, Table of Return Reason Codes).
func ReturnWords(code string) string {
	switch code {
	case "R01":
		return "the other account did not have enough money"
	case "R02":
		return "the other account is closed"
	case "R03":
		return "no account with that number exists at the other bank"
	case "R04":
		return "the account number is not valid at the other bank"
	case "R16":
		return "the other account is frozen"
	case "R20":
		return "the other account cannot receive this kind of payment"
	}
	if rc := ach.LookupReturnCode(code); rc != nil {
		return rc.Reason
	}
	return "the other bank returned it (" + code + ")"
}
