package rails

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/moov-io/ach"
	"github.com/moov-io/base"
)

// ACH debits, both ways (docs/rails.md, "Debits").
//
// Out: a customer authorises the bank to pull money from an account of
// theirs (or of someone who authorised them) at another bank (Collect). The
// entry leaves in a PPD or WEB batch; when the operator settles the file the
// money is credited to the customer's account and is theirs to spend. The
// receiving bank may still return it: R01-R04 and other administrative
// codes within two banking days of settlement, R05/R07/R10/R11/R29/R51
// ("unauthorised") within sixty calendar days (NACHA Operating Rules,
// Appendix Four, Table of Return Reason Codes, time frames). A return takes
// the money back; what the account cannot give is owed (the overdraft rule
// below).
//
// In: another bank's customer debits an account here. It posts if the
// account can pay; otherwise it goes back at once: R01 funds short, R02
// closed, R03 no account, R16 frozen. The customer may later say they never
// authorised it: within sixty days the bank refunds them and returns it R10
// (DisputeDebit).
//
// The overdraft-on-return rule. A return of a debit the bank collected,
// after the money was made available and spent, must not refuse (the
// operator has already taken the money back from the bank) and must not
// break the ledger's limits (ledger verify checks every account against its
// limit). So the return is booked in two steps, each a plain balanced
// transfer:
//
//  1. the operator's money: the ACH return receivable (an internal account of
//     the bank, unbounded) pays the settlement account the whole amount;
//  2. the customer's debt: the whole amount is owed by the customer, and the
//     bank takes from the account what it can spend (its balance less holds
//     plus its arranged overdraft) into the receivable; the rest stays owed,
//     and each worker cycle takes what money has come in since, until
//     nothing is owed.
//
// So the account never goes past its limit, the bank's receivable shows
// what customers owe it, and the customer is told at the return what could
// not be taken.

// ReceivableNumber is the account number of the ACH return receivable: what
// customers owe the bank for debits returned after they spent the money.
const ReceivableNumber ledger.AccountNumber = "900000000021"

// Standard Entry Class codes the bank originates debits under: PPD, a
// written (or similarly authenticated) authorisation of a consumer; WEB, one
// obtained over the internet (NACHA Operating Rules, Article Two,
// Subsection 2.3.2 and Appendix Three, Standard Entry Class codes).
const (
	SECPPD = ach.PPD
	SECWEB = ach.WEB
)

// Errors of debits.
var (
	ErrSEC          = bankbridge.E(bankbridge.Invalid, "sec_code_invalid", "a debit is PPD (written authorisation) or WEB (authorised online)")
	ErrNoAuthority  = bankbridge.E(bankbridge.Invalid, "authorization_missing", "a debit needs the customer's authorisation, recorded")
	ErrNotValidated = bankbridge.E(bankbridge.Unprocessable, "payee_not_verified",
		"a WEB debit needs an account verified first (a prenote): verify the account, then collect")
	ErrReturnWindow  = bankbridge.E(bankbridge.Unprocessable, "return_window_closed", "the time to return this entry has passed")
	ErrNotDisputable = bankbridge.E(bankbridge.Conflict, "entry_not_disputable", "only a debit posted to your account can be disputed")
)

// Unauthorised return codes, with their sixty-day window (NACHA Operating
// Rules, Appendix Four, Table of Return Reason Codes: R05, R07, R10, R11,
// R29, R51 "60 Calendar Days"); every other code has two banking days.
var extendedReturn = map[string]bool{"R05": true, "R07": true, "R10": true, "R11": true, "R29": true, "R51": true}

// ReturnDeadline is the last moment a return with code of an entry settled
// at settled may reach the originator's bank: the end (Eastern time) of the
// second banking day after the settlement date, or of the sixtieth calendar
// day for the unauthorised codes (NACHA Operating Rules, Article Three,
// Subsections 3.8.3.1 and 3.13, and Appendix Four). The rules say "opening
// of business" of the day after; the end of the day before is the same
// moment for a bank's files.
func ReturnDeadline(code string, settled time.Time) time.Time {
	et := settled.In(eastern)
	day := time.Date(et.Year(), et.Month(), et.Day(), 0, 0, 0, 0, eastern)
	if extendedReturn[code] {
		day = day.AddDate(0, 0, 60)
	} else {
		day = base.NewTime(day).AddBankingDay(2).Time
		day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, eastern)
	}
	return day.AddDate(0, 0, 1).Add(-time.Nanosecond)
}

// Receivable finds the ACH return receivable, opening it the first time.
func (s *Service) Receivable(ctx context.Context) (ledger.Account, error) {
	return s.internal(ctx, ReceivableNumber, "ACH return receivable")
}

// DebitRequest asks the bank to pull money from a payee's account at
// another bank into one of the customer's accounts.
type DebitRequest struct {
	Customer bankbridge.CustomerID
	Payee    ledger.PayeeID // the account debited, at the other bank
	To       ledger.AccountID
	Amount   ledger.Amount
	SEC      string // SECPPD or SECWEB
	// Authorization is the authorisation as the bank recorded it: who
	// agreed to what, when, and how (the words shown, the session).
	Authorization string
	Memo          string
	SameDay       bool
	Channel       string
	Key           string
}

// Collect accepts a debit: it is recorded with its authorisation and leaves
// with the next file; nothing moves in the ledger until the operator
// settles it. The same channel and key again return the same payment; a
// WEB debit needs a payee whose account was verified (NACHA, "Supplementing
// Fraud Detection Standards for WEB Debits", in force since 19 March 2021:
// account validation before the first use of an account number).
func (s *Service) Collect(ctx context.Context, r DebitRequest) (Payment, error) {
	switch {
	case r.Amount <= 0:
		return Payment{}, ErrAmount
	case r.SameDay && r.Amount > SameDayLimit:
		return Payment{}, ErrSameDayLimit
	case r.SEC != SECPPD && r.SEC != SECWEB:
		return Payment{}, ErrSEC
	case strings.TrimSpace(r.Authorization) == "":
		return Payment{}, ErrNoAuthority
	case len(r.Authorization) > 1000:
		return Payment{}, ErrNoAuthority.WithMessage("the authorisation is at most 1,000 characters")
	case len(r.Memo) > 80:
		return Payment{}, bankbridge.E(bankbridge.Invalid, "memo_too_long", "the note is at most 80 characters")
	}
	p, err := s.st.Payee(ctx, r.Customer, r.Payee)
	if err != nil {
		return Payment{}, err
	}
	if p.Status == PayeeFailed {
		return Payment{}, ErrPayeeFailed
	}
	if r.SEC == SECWEB && p.Status != PayeeVerified {
		return Payment{}, ErrNotValidated
	}
	if err := errors.Join(CheckName(p.Name), CheckRouting(p.Routing), CheckAccountNumber(string(p.Number))); err != nil {
		return Payment{}, ErrPayeeFailed.WithMessage("the payee's details are not valid; check them, or add the payee again")
	}
	to, err := s.led.Store().Account(ctx, r.To)
	if err != nil || to.Customer != r.Customer {
		return Payment{}, ledger.ErrAccountNotFound
	}
	if to.Currency != "USD" {
		return Payment{}, ErrCurrency
	}
	if to.Status != ledger.Open {
		return Payment{}, ledger.ErrAccountClosed.WithMessage("the account must be open to receive money")
	}
	now := s.o.Now()
	pay := Payment{Customer: r.Customer, Payee: p.ID, Kind: KindDebit, Channel: r.Channel, Key: r.Key, From: r.To, Amount: r.Amount,
		Currency: to.Currency, Name: p.Name, Routing: p.Routing, Number: p.Number, Type: p.Type, Memo: r.Memo, Status: StatusNew,
		SEC: r.SEC, Authorization: r.Authorization, Created: now, Updated: now}
	pay.Effective, pay.SameDay = s.o.Schedule.Effective(now, r.SameDay)
	got, existed, err := s.st.CreatePayment(ctx, pay)
	if err != nil {
		return Payment{}, err
	}
	if existed && (got.Kind != KindDebit || got.Payee != pay.Payee || got.From != pay.From || got.Amount != pay.Amount || got.SEC != pay.SEC) {
		return Payment{}, ErrKeyReused
	}
	if got.Status != StatusNew {
		return got, nil
	}
	got.Status = StatusAccepted
	if hit, ok := s.o.Screener.Screen(got.Name); ok {
		got.Status, got.Screen = StatusHeld, fmt.Sprintf("SDN %s: %s", hit.Entry, hit.Name)
	}
	if _, err := s.move(ctx, got, StatusNew); err != nil {
		return Payment{}, err
	}
	return got, nil
}

// creditDebit makes a settled debit's money available: the settlement
// account pays the customer's account. Keyed by the payment, so a run
// resumed after a crash credits once.
func (s *Service) creditDebit(ctx context.Context, p Payment) (ledger.TransferID, error) {
	settle, err := s.Settlement(ctx)
	if err != nil {
		return 0, err
	}
	t, _, err := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: fmt.Sprintf("debit:%d", p.ID), Currency: p.Currency,
		Description: "ACH collection from " + p.Name, Category: "transfer",
		Postings: []ledger.Posting{{Account: settle.ID, Amount: -p.Amount}, {Account: p.From, Amount: p.Amount}}})
	return t.ID, err
}

// returnDebit books the return of a settled debit by the overdraft-on-return
// rule (the package comment above): the receivable pays the operator back
// in full, the customer owes the whole amount, and what the account can
// spend is taken at once. The reason tells the customer what stays owed.
func (s *Service) returnDebit(ctx context.Context, p Payment, code, words string, settle ledger.Account) (Payment, error) {
	recv, err := s.Receivable(ctx)
	if err != nil {
		return p, err
	}
	t, _, err := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: fmt.Sprintf("ret:%d", p.ID), Currency: p.Currency,
		Description: "Returned collection from " + p.Name + " (" + words + ")", Category: "transfer",
		Postings: []ledger.Posting{{Account: recv.ID, Amount: -p.Amount}, {Account: settle.ID, Amount: p.Amount}}})
	if err != nil {
		return p, err
	}
	from := p.Status
	p.Status, p.ReturnCode, p.Reversal, p.Owed = StatusReturned, code, t.ID, p.Amount
	p.Reason = "the other bank returned the collection: " + words
	if a, err := s.led.Store().Account(ctx, p.From); err == nil {
		if short := p.Amount - max(0, a.Spendable()); short > 0 {
			p.Reason += "; " + short.Display(p.Currency) + " of it could not be taken back from your account, and is owed to the bank until money comes in"
		}
	}
	if _, err := s.move(ctx, p, from); err != nil {
		return p, err
	}
	_, err = s.recover(ctx, p)
	return p, err
}

// Recover takes what customers owe on returned debits, and on exceptions
// an operator charged to them (resolve.go), from the money that came into
// their accounts since, and says how much it took. Each step is decided
// and recorded (Recovering) before its transfer, keyed by the debt before
// it, so a crash anywhere takes the money once.
func (s *Service) Recover(ctx context.Context) (ledger.Amount, error) {
	ps, err := s.st.Payments(ctx, PaymentQuery{Owing: true, Limit: 1000})
	if err != nil {
		return 0, err
	}
	var took ledger.Amount
	for _, p := range ps {
		n, err := s.recover(ctx, p)
		if err != nil {
			return took, err
		}
		took += n
	}
	rs, err := s.st.Resolutions(ctx, ResolutionQuery{Owing: true, Limit: 1000})
	if err != nil {
		return took, err
	}
	for _, r := range rs {
		n, err := s.recoverDebt(ctx, resolutionDebtor(s, r))
		if err != nil {
			return took, err
		}
		took += n
	}
	return took, nil
}

// debtor is a debt the overdraft-on-return rule takes: a returned
// collection's (a payment's) or a charged exception's (a resolution's).
type debtor struct {
	key      string // the recovery transfers' keys: key:<owed before>
	account  ledger.AccountID
	currency ledger.Currency
	what     string
	debt     Debt
	set      func(ctx context.Context, from, to Debt) (bool, error)
}

func (s *Service) recover(ctx context.Context, p Payment) (ledger.Amount, error) {
	return s.recoverDebt(ctx, debtor{key: fmt.Sprintf("recover:%d", p.ID), account: p.From, currency: p.Currency,
		what: "Returned collection from " + p.Name + ": amount owed", debt: Debt{Owed: p.Owed, Recovering: p.Recovering},
		set: func(ctx context.Context, from, to Debt) (bool, error) { return s.st.SetDebt(ctx, p.ID, from, to) }})
}

func (s *Service) recoverDebt(ctx context.Context, b debtor) (ledger.Amount, error) {
	if b.debt.Owed <= 0 {
		return 0, nil
	}
	recv, err := s.Receivable(ctx)
	if err != nil {
		return 0, err
	}
	d := b.debt
	if d.Recovering == 0 {
		a, err := s.led.Store().Account(ctx, b.account)
		if err != nil {
			return 0, err
		}
		take := min(d.Owed, a.Spendable())
		if take <= 0 || a.Status != ledger.Open {
			return 0, nil
		}
		next := Debt{Owed: d.Owed, Recovering: take}
		if ok, err := b.set(ctx, d, next); err != nil || !ok {
			return 0, err // another worker decided first: it takes it
		}
		d = next
	}
	_, _, err = s.led.Transfer(ctx, ledger.Request{Client: Client, Key: fmt.Sprintf("%s:%d", b.key, d.Owed), Currency: b.currency,
		Description: b.what, Category: "transfer",
		Postings: []ledger.Posting{{Account: b.account, Amount: -d.Recovering}, {Account: recv.ID, Amount: d.Recovering}}})
	if err != nil {
		if k := bankbridge.ErrorKind(err); k == bankbridge.Unprocessable || k == bankbridge.Conflict {
			// Spent (or frozen) between the decision and the transfer:
			// nothing was taken; the next cycle decides again.
			_, serr := b.set(ctx, d, Debt{Owed: d.Owed})
			return 0, serr
		}
		return 0, err
	}
	if _, err := b.set(ctx, d, Debt{Owed: d.Owed - d.Recovering}); err != nil {
		return 0, err
	}
	return d.Recovering, nil
}

// applyDebit posts an inbound debit to the account it names, or returns it
// at once: R03 no account, R02 closed, R16 frozen, R01 funds short (NACHA
// Operating Rules, Appendix Four). A return goes back in the next file; the
// entry is recorded returned with its code.
func (s *Service) applyDebit(ctx context.Context, f File, c Credit, settle ledger.Account, sum *Summary) error {
	now := s.o.Now()
	e := Entry{File: f.ID, Trace: c.Trace, Kind: EntryDebit, Status: EntryPosted, Amount: c.Amount, Name: c.Company, At: now}
	if c.Routing != s.o.Origin.Routing {
		e.Status, e.Detail = EntryUnmatched, "the entry is for another bank ("+c.Routing+")"
		sum.Unmatched++
		_, err := s.st.AddEntry(ctx, e)
		return err
	}
	a, err := s.st.AccountByNumber(ctx, ledger.AccountNumber(c.Account))
	code, why := "", ""
	switch {
	case errors.Is(err, ledger.ErrAccountNotFound) || err == nil && a.Customer == 0:
		code, why = "R03", "no account has this number"
	case err != nil:
		return err
	case a.Status == ledger.Closed:
		code, why = "R02", "the account is closed"
	case a.Status == ledger.Frozen:
		code, why = "R16", "the account is frozen"
	}
	if err == nil {
		e.Customer, e.Account = a.Customer, a.ID
	}
	if code == "" {
		who := c.Company
		if who == "" {
			who = "ACH"
		}
		t, _, terr := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: "in:" + f.Name + ":" + c.Trace, Currency: a.Currency,
			Description: "ACH debit by " + who, Category: "transfer",
			Postings: []ledger.Posting{{Account: a.ID, Amount: -c.Amount}, {Account: settle.ID, Amount: c.Amount}}})
		switch {
		case terr == nil:
			e.Transfer = t.ID
		case errors.Is(terr, ledger.ErrInsufficientFunds):
			code, why = "R01", "the account did not have enough money"
		case errors.Is(terr, ledger.ErrAccountFrozen):
			code, why = "R16", "the account is frozen"
		case errors.Is(terr, ledger.ErrAccountClosed):
			code, why = "R02", "the account is closed"
		default:
			return terr
		}
	}
	if code != "" {
		ret, err := s.returnEntry(ctx, f.Name, c, code, KindDebitReturn)
		if err != nil {
			return err
		}
		e.Status, e.Code = EntryReturned, code
		e.Payment, e.Detail = ret.ID, why+"; returned "+code+" as ACH-"+strconv.FormatInt(int64(ret.ID), 10)
	}
	sum.Debited++
	_, err = s.st.AddEntry(ctx, e)
	return err
}

// DisputeDebit is the customer saying they never authorised a debit posted
// to their account: within sixty calendar days of its settlement the bank
// refunds it and returns it R10 (NACHA Operating Rules, Article Three,
// Subsection 3.12: the receiver's Written Statement of Unauthorized Debit,
// here statement, recorded with the entry). Past the window,
// ErrReturnWindow; an entry that is not a posted debit of the customer's,
// ErrNotDisputable.
func (s *Service) DisputeDebit(ctx context.Context, c bankbridge.CustomerID, file FileID, trace, statement string) (Entry, error) {
	e, err := s.st.Entry(ctx, file, trace, EntryDebit)
	if errors.Is(err, ErrEntryNotFound) || err == nil && e.Customer != c {
		return Entry{}, ErrEntryNotFound
	}
	if err != nil {
		return Entry{}, err
	}
	if e.Status == EntryReturned && e.Code == "R10" {
		return e, nil // disputed before: a retry
	}
	if e.Status != EntryPosted {
		return Entry{}, ErrNotDisputable
	}
	if strings.TrimSpace(statement) == "" || len(statement) > 500 {
		return Entry{}, bankbridge.E(bankbridge.Invalid, "statement_missing", "say in a few words that you did not authorise this debit (at most 500 characters)")
	}
	now := s.o.Now()
	if now.After(ReturnDeadline("R10", e.At)) {
		return Entry{}, ErrReturnWindow.WithMessage("an unauthorised debit can be returned within 60 days of its date; this one is older")
	}
	f, err := s.st.File(ctx, file)
	if err != nil {
		return Entry{}, err
	}
	in, err := ParseFile(f.Body)
	if err != nil {
		return Entry{}, err
	}
	var orig *Credit
	for i := range in.Debits {
		if in.Debits[i].Trace == trace {
			orig = &in.Debits[i]
		}
	}
	if orig == nil {
		return Entry{}, ErrEntryNotFound
	}
	settle, err := s.Settlement(ctx)
	if err != nil {
		return Entry{}, err
	}
	if _, _, err := s.led.Transfer(ctx, ledger.Request{Client: Client, Key: "r10:" + f.Name + ":" + trace, Currency: "USD",
		Description: "Refund: unauthorised ACH debit by " + e.Name, Category: "transfer",
		Postings: []ledger.Posting{{Account: settle.ID, Amount: -e.Amount}, {Account: e.Account, Amount: e.Amount}}}); err != nil {
		return Entry{}, err
	}
	ret, err := s.returnEntry(ctx, f.Name, *orig, "R10", KindDebitReturn)
	if err != nil {
		return Entry{}, err
	}
	e.Status, e.Code, e.Payment = EntryReturned, "R10", ret.ID
	e.Detail = "disputed as unauthorised (" + statement + "); refunded and returned R10 as ACH-" + strconv.FormatInt(int64(ret.ID), 10)
	if _, err := s.st.MoveEntry(ctx, e, EntryPosted); err != nil {
		return Entry{}, err
	}
	return e, nil
}
