package rails

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// Accounts opened from the core's account list (mirror mode; docs/rails.md
// "Mirror mode", "Accounts").
//
// A bank that keeps its core exports its account list, and bankbridge
// opens the accounts it does not have yet, so their statements can be
// imported. The list is a CSV file (RFC 4180, UTF-8) dropped in the core
// inbox as accounts*.csv, with this header and one account a row:
//
//	account_number,currency,kind,name,customer_email
//
// account_number is the core's number (the one its camt.053 statements
// name), currency an ISO 4217 code, kind checking or savings, name the
// account's name, and customer_email the e-mail address of the bankbridge
// customer who owns it: the mapping between the core's customer and the
// bank's is the customer's e-mail, which both keep. A file is read whole
// first: a malformed one opens nothing and is rejected with the line and
// column at fault. Each row is then opened once: an account already open
// with that number for that customer is taken as opened (the list is sent
// every day, and a run killed between opening and recording resumes so),
// a number held by another customer's account or a customer unknown here
// is refused with why, and a later list may open what an earlier refused.
// Opened and refused rows are recorded (AccountListStore), and the mirror's
// reconciliation lists them.

// CoreAccount is one row of the core's account list.
type CoreAccount struct {
	Line     int
	Number   ledger.AccountNumber
	Currency ledger.Currency
	Kind     ledger.AccountKind
	Name     string
	Email    string
}

// AccountListHeader is the header row of the core's account list.
const AccountListHeader = "account_number,currency,kind,name,customer_email"

// ParseAccountList reads the core's account list whole; an error names
// the line and column at fault.
func ParseAccountList(r io.Reader) ([]CoreAccount, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 5
	rows, err := cr.ReadAll()
	if err != nil {
		return nil, ErrMessage.WithMessage("account list: " + err.Error())
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != AccountListHeader {
		return nil, ErrMessage.WithMessage("account list: line 1: the header must be " + AccountListHeader)
	}
	var out []CoreAccount
	seen := map[ledger.AccountNumber]int{}
	for i, row := range rows[1:] {
		line := i + 2
		bad := func(col, why string) error {
			return ErrMessage.WithMessage(fmt.Sprintf("account list: line %d, %s: %s", line, col, why))
		}
		a := CoreAccount{Line: line, Number: ledger.AccountNumber(strings.TrimSpace(row[0])), Currency: ledger.Currency(strings.TrimSpace(row[1])),
			Kind: ledger.AccountKind(strings.TrimSpace(row[2])), Name: strings.TrimSpace(row[3]), Email: strings.ToLower(strings.TrimSpace(row[4]))}
		switch {
		case a.Number == "" || len(a.Number) > 34 || strings.ContainsAny(string(a.Number), " \t"):
			return nil, bad("account_number", "an account number of 1 to 34 characters, no spaces")
		case seen[a.Number] != 0:
			return nil, bad("account_number", fmt.Sprintf("account %s is listed twice (line %d)", a.Number.Masked(), seen[a.Number]))
		case len(a.Currency) != 3 || strings.ToUpper(string(a.Currency)) != string(a.Currency):
			return nil, bad("currency", "an ISO 4217 code such as USD")
		case a.Kind != ledger.Checking && a.Kind != ledger.Savings:
			return nil, bad("kind", "checking or savings")
		case a.Name == "" || len(a.Name) > 60:
			return nil, bad("name", "a name of 1 to 60 characters")
		case !strings.Contains(a.Email, "@"):
			return nil, bad("customer_email", "the e-mail address of the customer who owns the account")
		}
		seen[a.Number] = line
		out = append(out, a)
	}
	return out, nil
}

// OpenedAccount is what became of one row of an account list.
type OpenedAccount struct {
	Number   ledger.AccountNumber
	Account  ledger.AccountID
	Customer bankbridge.CustomerID
	Currency ledger.Currency
	File     string
	Status   string // "opened" or "refused"
	Detail   string
	At       time.Time
}

// AccountListStore records the rows of the core's account lists (a part
// of MirrorStore).
type AccountListStore interface {
	// RecordOpened records a row: a number not recorded, or recorded
	// refused, takes o; one recorded opened keeps its record. It says
	// whether it wrote.
	RecordOpened(ctx context.Context, o OpenedAccount) (bool, error)
	// OpenedAccounts lists every row recorded, by number.
	OpenedAccounts(ctx context.Context) ([]OpenedAccount, error)
}

// AccountOpener opens the accounts of the core's account list.
type AccountOpener struct {
	Store  AccountListStore
	Ledger ledger.Store
	// AccountByNumber finds a ledger account by its number
	// (rails.Store.AccountByNumber).
	AccountByNumber func(context.Context, ledger.AccountNumber) (ledger.Account, error)
	// Customer finds the customer with an e-mail address; an error of
	// kind NotFound when none has it.
	Customer func(context.Context, string) (bankbridge.CustomerID, error)
	Routing  string
	Now      func() time.Time
}

// Open opens the accounts of a list read from file and returns what
// became of each row. It stops at the first error of the store or the
// ledger (a row refused is not an error): the next run resumes it.
func (o *AccountOpener) Open(ctx context.Context, file string, as []CoreAccount) ([]OpenedAccount, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	var out []OpenedAccount
	for _, a := range as {
		r := OpenedAccount{Number: a.Number, Currency: a.Currency, File: file, Status: "opened", At: now()}
		cust, err := o.Customer(ctx, a.Email)
		switch {
		case bankbridge.ErrorKind(err) == bankbridge.NotFound:
			r.Status, r.Detail = "refused", "no customer here has the e-mail address "+a.Email
		case err != nil:
			return out, err
		default:
			r.Customer = cust
			acct, err := o.AccountByNumber(ctx, a.Number)
			if errors.Is(err, ledger.ErrAccountNotFound) {
				acct, err = o.Ledger.CreateAccount(ctx, ledger.Account{Customer: cust, Kind: a.Kind, Name: a.Name, Currency: a.Currency,
					Status: ledger.Open, Number: a.Number, Routing: o.Routing, OpenedAt: now()})
				if errors.Is(err, ledger.ErrDuplicate) { // opened meanwhile by another importer
					acct, err = o.AccountByNumber(ctx, a.Number)
				} else if err == nil {
					r.Detail = "opened from the core's list"
				}
			} else if err == nil {
				r.Detail = "already open"
			}
			if err != nil {
				return out, err
			}
			if acct.Customer != cust || acct.Currency != a.Currency {
				r.Status, r.Detail = "refused", "the number belongs to another account here (another customer or currency)"
				break
			}
			r.Account = acct.ID
		}
		if _, err := o.Store.RecordOpened(ctx, r); err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}
