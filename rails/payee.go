package rails

import (
	"strings"
	"time"
	"unicode"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/moov-io/ach"
)

// PayeeStatus is how far the bank trusts an external payee's account.
type PayeeStatus string

// Payee states. A payee starts unverified; Verify sends a prenote (a
// zero-amount ACH entry) and the payee is verifying until the prenote's file
// is confirmed (verified) or the receiving bank returns it (failed).
const (
	PayeeUnverified PayeeStatus = "unverified"
	PayeeVerifying  PayeeStatus = "verifying"
	PayeeVerified   PayeeStatus = "verified"
	PayeeFailed     PayeeStatus = "failed"
)

// AccountType is the kind of account at the receiving bank: it picks the
// entry's transaction code.
type AccountType string

// Account types of a receiver.
const (
	Checking AccountType = "checking"
	Savings  AccountType = "savings"
)

// Payee is a customer's payee at another bank. It lives in the ledger's
// payees table (so the chat and the limits see the same payee) with its
// rail details beside it.
type Payee struct {
	ID       ledger.PayeeID
	Customer bankbridge.CustomerID
	Name     string // the account holder's name, as sent in the entry
	Nickname string
	Routing  string               // ABA routing number of the receiving bank
	Number   ledger.AccountNumber // the account at the receiving bank
	Type     AccountType
	Status   PayeeStatus
	// Detail says why a payee failed verification, or what a notification
	// of change corrected, in plain words.
	Detail  string
	Created time.Time
}

// Errors of payees.
var (
	ErrPayeeNotFound  = bankbridge.E(bankbridge.NotFound, "payee_not_found", "no such payee")
	ErrRouting        = bankbridge.E(bankbridge.Invalid, "routing_number_invalid", "the routing number is not a valid ABA routing number")
	ErrAccountNumber  = bankbridge.E(bankbridge.Invalid, "account_number_invalid", "the account number must be 4 to 17 letters or digits")
	ErrPayeeName      = bankbridge.E(bankbridge.Invalid, "payee_name_invalid", "the name must be 1 to 22 letters, digits, spaces or . , - ' &")
	ErrNickname       = bankbridge.E(bankbridge.Invalid, "payee_nickname_invalid", "the nickname must be 1 to 30 characters")
	ErrNicknameTaken  = bankbridge.E(bankbridge.Conflict, "payee_nickname_taken", "another payee already has that nickname")
	ErrPayeeFailed    = bankbridge.E(bankbridge.Conflict, "payee_failed", "the payee's account could not be verified; check its details")
	ErrAlreadyPending = bankbridge.E(bankbridge.Conflict, "payee_verifying", "the payee is already being verified")
)

// CheckRouting checks an ABA routing number: nine digits whose check digit
// (weights 3, 7, 1 over the first eight) matches, as
// https://www.frbservices.org/resources/routing-number-directory (ABA
// routing number check digit) and the NACHA Operating Rules, Appendix Three
// (RDFI identification and check digit) define it. moov-io/ach computes it.
func CheckRouting(routing string) error {
	if len(routing) != 9 || strings.IndexFunc(routing, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return ErrRouting.WithMessage("a routing number has exactly 9 digits")
	}
	if err := ach.CheckRoutingNumber(routing); err != nil {
		return ErrRouting.WithMessage("the routing number's check digit does not match; check it for a typing error")
	}
	return nil
}

// CheckAccountNumber checks a receiver's account number as the entry detail
// record carries it: the DFI Account Number field is 17 positions,
// alphanumeric (NACHA Operating Rules, Appendix Three, Entry Detail Record,
// field 5). We also ask for 4 characters at least: fewer is a typing error.
func CheckAccountNumber(n string) error {
	if len(n) < 4 || len(n) > 17 {
		return ErrAccountNumber
	}
	for _, r := range n {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-') {
			return ErrAccountNumber
		}
	}
	return nil
}

// CheckName checks a receiver's name: the Individual Name field of a PPD
// entry is 22 positions (NACHA Operating Rules, Appendix Three), and a
// file's fields hold only upper-case-able ASCII (Appendix One, "Data
// specifications": alphanumeric characters).
func CheckName(n string) error {
	n = strings.TrimSpace(n)
	if n == "" || len(n) > 22 {
		return ErrPayeeName
	}
	for _, r := range n {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" .,-'&", r)) {
			return ErrPayeeName
		}
	}
	return nil
}

// CheckNickname checks a nickname: 1 to 30 printable characters.
func CheckNickname(n string) error {
	if n == "" || len([]rune(n)) > 30 || strings.IndexFunc(n, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return ErrNickname
	}
	return nil
}

// Validate checks a payee before it is saved.
func (p Payee) Validate() error {
	if err := CheckName(p.Name); err != nil {
		return err
	}
	if err := CheckNickname(p.Nickname); err != nil {
		return err
	}
	if err := CheckRouting(p.Routing); err != nil {
		return err
	}
	if err := CheckAccountNumber(string(p.Number)); err != nil {
		return err
	}
	if p.Type != Checking && p.Type != Savings {
		return bankbridge.E(bankbridge.Invalid, "account_type_invalid", "the account type is checking or savings")
	}
	return nil
}

// LimitsPayee is the id the payment limits count this payee's payments
// under. The limits key payees by the account the money goes to; an
// external payee has none here, so it takes its payee id negated, which no
// ledger account id (always positive) can equal.
func (p Payee) LimitsPayee() ledger.AccountID { return ledger.AccountID(-int64(p.ID)) }
