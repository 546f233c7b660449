package rails

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
)

// Mirror mode: a bank that keeps its core. The core's statements (camt.053)
// are imported into the ledger, so every channel serves the core's
// balances and entries. Each booked entry becomes one transfer between the
// account and the core-settlement account of its currency ("CORE-<CCY>",
// the bank's own, unbounded), keyed by the account and the entry's
// reference: an entry imported twice, or by a run that crashed half-way
// and ran again, replays and moves nothing. An account's first statement
// takes it on: a transfer for the difference between its opening balance
// and the ledger's, decided once and recorded before it is posted.
// Statements are imported in their sequence order, per account; a gap
// stops that account's import with an error until the missing statement
// comes. A statement is recorded once all its entries are posted, so its
// record marks the sequence done.

// MirrorClient is the ledger client of imported transfers: with the
// account and the entry's reference it keys them.
const MirrorClient = "core-mirror"

// MirrorStore keeps what the mirror imported. It is implemented once, in
// store/sqlstore, and proved on both engines by store/storetest.Mirror.
type MirrorStore interface {
	// TakeOn records an account's take-on (its ledger account and the
	// adjustment that brings it to the core's opening balance) if none is
	// recorded, and returns the one recorded: the first decision stands.
	TakeOn(ctx context.Context, a MirrorAccount) (MirrorAccount, error)
	// MirrorAccounts lists the accounts taken on, by number.
	MirrorAccounts(ctx context.Context) ([]MirrorAccount, error)
	// LastStatement returns an account's statement of highest sequence,
	// and false when none was imported.
	LastStatement(ctx context.Context, acct ledger.AccountNumber) (ImportedStatement, bool, error)
	// ImportedStatement returns an account's statement of one sequence.
	ImportedStatement(ctx context.Context, acct ledger.AccountNumber, seq int64) (ImportedStatement, bool, error)
	// RecordStatement records a statement imported; an account and
	// sequence recorded before answers ErrStatementConflict when the hash
	// differs, nil when it is the same.
	RecordStatement(ctx context.Context, s ImportedStatement) error
	// AddException records an entry the ledger refused, once per account
	// and reference.
	AddException(ctx context.Context, x MirrorException) error
	// Exceptions lists the entries the ledger refused, oldest first.
	Exceptions(ctx context.Context) ([]MirrorException, error)
	// The rows of the core's account lists.
	AccountListStore
}

// MirrorAccount is an account the mirror took on.
type MirrorAccount struct {
	Number   ledger.AccountNumber
	Account  ledger.AccountID
	Currency ledger.Currency
	TakeOn   ledger.Amount // credited to the account at take-on (negative: debited)
	At       time.Time
}

// ImportedStatement is the record of a statement imported.
type ImportedStatement struct {
	Account  ledger.AccountNumber
	Seq      int64
	ID       string
	MsgID    string
	Hash     [32]byte
	Currency ledger.Currency
	Closing  ledger.Amount
	Entries  int
	At       time.Time
}

// MirrorException is an entry of the core the ledger would not post (an
// account frozen or closed here, a debit past the limit the ledger
// knows, a reference reused for another entry): the reconciliation shows
// it, and the import goes on.
type MirrorException struct {
	Account ledger.AccountNumber
	Ref     string
	Seq     int64
	Amount  ledger.Amount
	Code    string // the ledger's error code
	At      time.Time
}

// Errors of the mirror.
var (
	ErrStatementConflict = bankbridge.E(bankbridge.Conflict, "statement_conflict", "a statement with that account and sequence number but other content was imported before")
	ErrStatementGap      = bankbridge.E(bankbridge.Conflict, "statement_gap", "a statement is missing before this one")
	ErrMirrorAccount     = bankbridge.E(bankbridge.NotFound, "mirror_account_unknown", "the statement's account is not open in bankbridge")
)

// Mirror imports the core's statements and reconciles against them.
type Mirror struct {
	st     MirrorStore
	led    ledger.Store
	acct   func(context.Context, ledger.AccountNumber) (ledger.Account, error)
	now    func() time.Time
	batch  int
	booked func(context.Context, []StatementEntry) error
}

// MirrorOptions tunes a Mirror.
type MirrorOptions struct {
	// AccountByNumber finds the ledger account of a statement's account
	// (rails.Store.AccountByNumber).
	AccountByNumber func(context.Context, ledger.AccountNumber) (ledger.Account, error)
	Now             func() time.Time
	// Batch is how many entries go to the ledger in one transaction (0:
	// 512). A crash loses at most the batch in flight, which the next run
	// posts.
	Batch int
	// Booked is told a statement's (or notification's) entries before they
	// are posted: mirror mode settles there the payments it sent the core
	// as pain.001 (Service.SettleFromCore). Optional.
	Booked func(context.Context, []StatementEntry) error
}

// NewMirror returns the importer over its store and the ledger's.
func NewMirror(st MirrorStore, led ledger.Store, o MirrorOptions) *Mirror {
	m := &Mirror{st: st, led: led, acct: o.AccountByNumber, now: o.Now, batch: o.Batch, booked: o.Booked}
	if m.now == nil {
		m.now = time.Now
	}
	if m.batch <= 0 {
		m.batch = 512
	}
	return m
}

// ImportResult says what became of one statement.
type ImportResult struct {
	Account  ledger.AccountNumber
	Seq      int64
	ID       string
	Outcome  string // "imported", "already imported", "gap", "failed"
	Posted   int    // entries posted now
	Replayed int    // entries posted by an earlier run
	Refused  int    // entries the ledger refused: exceptions
	Err      error
}

// Import imports statements (from one or several messages): per account
// in sequence order, each statement after the last one imported. It
// returns a result per statement and an error when any statement was not
// imported (a gap, a conflict, an unknown account); the other accounts'
// statements are imported still.
func (m *Mirror) Import(ctx context.Context, stmts []Statement) ([]ImportResult, error) {
	order := slices.Clone(stmts)
	slices.SortStableFunc(order, func(a, b Statement) int {
		// Statements first, in sequence; then the intraday entries, which
		// need the account taken on.
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmpBool(a.Intraday, b.Intraday), cmp.Compare(a.Seq, b.Seq))
	})
	var out []ImportResult
	var errs []error
	blocked := map[ledger.AccountNumber]bool{}
	for _, s := range order {
		r := ImportResult{Account: s.Account, Seq: s.Seq, ID: s.ID}
		if s.Intraday {
			r = m.importIntraday(ctx, s, r)
			if r.Err != nil {
				errs = append(errs, r.Err)
			}
			out = append(out, r)
			continue
		}
		if blocked[s.Account] {
			r.Outcome, r.Err = "gap", ErrStatementGap.WithMessage(fmt.Sprintf("statement %d of account %s waits for an earlier one", s.Seq, s.Account.Masked()))
		} else {
			r = m.importOne(ctx, s, r)
		}
		if r.Err != nil {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			blocked[s.Account] = true
			errs = append(errs, r.Err)
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

func (m *Mirror) importOne(ctx context.Context, s Statement, r ImportResult) ImportResult {
	fail := func(outcome string, err error) ImportResult { r.Outcome, r.Err = outcome, err; return r }
	last, ok, err := m.st.LastStatement(ctx, s.Account)
	if err != nil {
		return fail("failed", err)
	}
	if ok && s.Seq <= last.Seq {
		prev, found, err := m.st.ImportedStatement(ctx, s.Account, s.Seq)
		switch {
		case err != nil:
			return fail("failed", err)
		case found && prev.Hash != s.Hash:
			return fail("failed", ErrStatementConflict.WithMessage(fmt.Sprintf("statement %d of account %s was imported before with other content", s.Seq, s.Account.Masked())))
		}
		r.Outcome = "already imported"
		return r
	}
	if ok && s.Seq != last.Seq+1 {
		return fail("gap", ErrStatementGap.WithMessage(fmt.Sprintf("account %s: statement %d is missing (the last imported is %d, this one is %d)", s.Account.Masked(), last.Seq+1, last.Seq, s.Seq)))
	}
	acct, err := m.acct(ctx, s.Account)
	if errors.Is(err, ledger.ErrAccountNotFound) {
		return fail("failed", ErrMirrorAccount.WithMessage(fmt.Sprintf("statement %s: account %s is not open in bankbridge", s.ID, s.Account.Masked())))
	}
	if err != nil {
		return fail("failed", err)
	}
	if acct.Currency != s.Currency {
		return fail("failed", ErrMessage.WithMessage(fmt.Sprintf("statement %s: the statement is in %s, account %s in %s", s.ID, s.Currency, s.Account.Masked(), acct.Currency)))
	}
	core, err := m.coreAccount(ctx, s.Currency)
	if err != nil {
		return fail("failed", err)
	}
	var ops []ledger.Op
	var entries []StatementEntry
	if !ok {
		// The first statement takes the account on: the difference between
		// the core's opening balance and the ledger's, decided once.
		opening := s.Opening
		if !s.HasOpening {
			opening = s.Closing
			for _, e := range s.Entries {
				opening -= e.Amount
			}
		}
		t, err := m.st.TakeOn(ctx, MirrorAccount{Number: s.Account, Account: acct.ID, Currency: s.Currency, TakeOn: opening - acct.Balance, At: m.now()})
		if err != nil {
			return fail("failed", err)
		}
		if t.TakeOn != 0 {
			ops = append(ops, m.op(core.ID, acct.ID, s, StatementEntry{Ref: "take-on", Amount: t.TakeOn, Info: "balance taken on from the core"}))
			entries = append(entries, StatementEntry{Ref: "take-on", Amount: t.TakeOn})
		}
	}
	if err := m.tellBooked(ctx, s); err != nil {
		return fail("failed", err)
	}
	if err := m.post(ctx, core.ID, acct.ID, s, ops, entries, &r); err != nil {
		return fail("failed", err)
	}
	if err := m.st.RecordStatement(ctx, ImportedStatement{Account: s.Account, Seq: s.Seq, ID: s.ID, MsgID: s.MsgID, Hash: s.Hash,
		Currency: s.Currency, Closing: s.Closing, Entries: len(s.Entries), At: m.now()}); err != nil {
		return fail("failed", err)
	}
	r.Outcome = "imported"
	return r
}

// post posts s's entries after the ops given (entries beside them), in
// batches of m.batch, each one transaction, counting in r what was posted,
// replayed and refused; a refusal by the ledger's rules is recorded as an
// exception, anything else stops the import with the error.
func (m *Mirror) post(ctx context.Context, core, acct ledger.AccountID, s Statement, ops []ledger.Op, entries []StatementEntry, r *ImportResult) error {
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		res, err := m.led.Apply(ctx, ops, m.now())
		if err != nil {
			return err
		}
		for i, x := range res {
			switch {
			case x.Err == nil && x.Replayed:
				r.Replayed++
			case x.Err == nil:
				r.Posted++
			default:
				var be *bankbridge.Error
				if !errors.As(x.Err, &be) || be.Kind == bankbridge.Unavailable || be.Kind == bankbridge.Internal {
					return x.Err
				}
				r.Refused++
				if err := m.st.AddException(ctx, MirrorException{Account: s.Account, Ref: entries[i].Ref, Seq: s.Seq, Amount: entries[i].Amount, Code: be.Code, At: m.now()}); err != nil {
					return err
				}
			}
		}
		ops, entries = ops[:0], entries[:0]
		return nil
	}
	for _, e := range s.Entries {
		ops = append(ops, m.op(core, acct, s, e))
		entries = append(entries, e)
		if len(ops) >= m.batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// importIntraday posts a notification's entries to an account already
// taken on. They need no order and leave no record: the day's statement
// carries them again, and they replay.
func (m *Mirror) importIntraday(ctx context.Context, s Statement, r ImportResult) ImportResult {
	fail := func(outcome string, err error) ImportResult { r.Outcome, r.Err = outcome, err; return r }
	if _, ok, err := m.st.LastStatement(ctx, s.Account); err != nil {
		return fail("failed", err)
	} else if !ok {
		return fail("gap", ErrStatementGap.WithMessage(fmt.Sprintf("account %s: intraday entries wait for its first end-of-day statement", s.Account.Masked())))
	}
	acct, err := m.acct(ctx, s.Account)
	if err != nil {
		return fail("failed", err)
	}
	if acct.Currency != s.Currency {
		return fail("failed", ErrMessage.WithMessage(fmt.Sprintf("notification %s: the notification is in %s, account %s in %s", s.ID, s.Currency, s.Account.Masked(), acct.Currency)))
	}
	core, err := m.coreAccount(ctx, s.Currency)
	if err != nil {
		return fail("failed", err)
	}
	if err := m.tellBooked(ctx, s); err != nil {
		return fail("failed", err)
	}
	if err := m.post(ctx, core.ID, acct.ID, s, nil, nil, &r); err != nil {
		return fail("failed", err)
	}
	r.Outcome = "posted intraday"
	return r
}

// tellBooked tells Booked a statement's entries, before they are posted:
// a payment's hold is released there before the core's debit of it posts,
// so the debit never meets the hold (which would count the money twice
// against the account's limit).
func (m *Mirror) tellBooked(ctx context.Context, s Statement) error {
	if m.booked == nil || len(s.Entries) == 0 {
		return nil
	}
	return m.booked(ctx, s.Entries)
}

// op is the transfer of one entry: a credit moves money from the core's
// settlement account to the account, a debit the other way.
func (m *Mirror) op(core, acct ledger.AccountID, s Statement, e StatementEntry) ledger.Op {
	from, to, amt := core, acct, e.Amount
	if amt < 0 {
		from, to, amt = acct, core, -amt
	}
	desc := e.Info
	if desc == "" {
		desc = "core entry " + e.Ref
	}
	req := ledger.Request{Client: MirrorClient, Key: string(s.Account) + "/" + e.Ref, Currency: s.Currency, Description: desc,
		Postings: []ledger.Posting{{Account: from, Amount: -amt}, {Account: to, Amount: amt}}, At: e.Booked}
	return ledger.Op{Kind: ledger.OpCreate, Request: req, Hash: req.Hash()}
}

// CoreAccountNumber is the number of the core-settlement account of a
// currency: the other side of every imported entry.
func CoreAccountNumber(c ledger.Currency) ledger.AccountNumber {
	return ledger.AccountNumber("CORE-" + string(c))
}

func (m *Mirror) coreAccount(ctx context.Context, c ledger.Currency) (ledger.Account, error) {
	a, err := m.acct(ctx, CoreAccountNumber(c))
	if !errors.Is(err, ledger.ErrAccountNotFound) {
		return a, err
	}
	a, err = m.led.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "Core settlement " + string(c), Currency: c,
		Number: CoreAccountNumber(c), Unbounded: true, OpenedAt: m.now()})
	if errors.Is(err, ledger.ErrDuplicate) {
		// Another importer opened it first.
		return m.acct(ctx, CoreAccountNumber(c))
	}
	return a, err
}

// MirrorDifference is one account's closing balance at the core beside
// the mirror's balance.
type MirrorDifference struct {
	Account    ledger.AccountNumber
	Statement  string
	Seq        int64
	Currency   ledger.Currency
	Core       ledger.Amount // the last statement's closing balance
	Mirror     ledger.Amount // the ledger's posted balance now
	Difference ledger.Amount // Mirror - Core
}

// MirrorReport is the reconciliation of the mirror against the core.
type MirrorReport struct {
	Accounts    []MirrorDifference // every account taken on
	Differences int                // how many of them differ
	Exceptions  []MirrorException  // entries the ledger refused
	// Opened is every account of the core's account lists: opened here,
	// or refused and why (coreaccounts.go); empty when the store keeps none.
	Opened []OpenedAccount
}

// Reconcile compares every account's last closing balance at the core with
// its posted balance in the ledger, and lists the entries the ledger
// refused.
func (m *Mirror) Reconcile(ctx context.Context) (MirrorReport, error) {
	var rep MirrorReport
	accts, err := m.st.MirrorAccounts(ctx)
	if err != nil {
		return rep, err
	}
	for _, a := range accts {
		last, ok, err := m.st.LastStatement(ctx, a.Number)
		if err != nil {
			return rep, err
		}
		if !ok {
			continue // taken on, its first statement not finished yet
		}
		la, err := m.led.Account(ctx, a.Account)
		if err != nil {
			return rep, err
		}
		d := MirrorDifference{Account: a.Number, Statement: last.ID, Seq: last.Seq, Currency: a.Currency, Core: last.Closing,
			Mirror: la.Balance, Difference: la.Balance - last.Closing}
		if d.Difference != 0 {
			rep.Differences++
		}
		rep.Accounts = append(rep.Accounts, d)
	}
	if rep.Exceptions, err = m.st.Exceptions(ctx); err != nil {
		return rep, err
	}
	rep.Opened, err = m.st.OpenedAccounts(ctx)
	return rep, err
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
