package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/jackc/pgx/v5"
)

// LedgerShared implements the parts of ledger.Store that are the same SQL on
// both engines: accounts, transfers, history, the outbox's reads, Verify,
// merchants, cards and payees. Apply and SetAccountStatus are each engine's
// own (store/sqlite/ledger.go with its single writer and account cache,
// store/postgres/ledger.go set-oriented over arrays), and so are bulk loads.
type LedgerShared struct{ db *DB }

// LedgerShared returns the shared parts of the ledger store of db.
func (db *DB) LedgerShared() *LedgerShared { return &LedgerShared{db: db} }

// AccountCols are the columns ScanAccount reads.
const AccountCols = `id, customer_id, kind, name, currency, status, number, routing, limit_minor, unbounded, balance, held, opened_at`

// ScanAccount reads one row of AccountCols.
func ScanAccount(r Scanner) (ledger.Account, error) {
	var a ledger.Account
	var opened int64
	err := r.Scan(&a.ID, &a.Customer, &a.Kind, &a.Name, &a.Currency, &a.Status, &a.Number, &a.Routing,
		&a.Limit, &a.Unbounded, &a.Balance, &a.Held, &opened)
	a.OpenedAt = fromMicros(opened)
	return a, err
}

// noRows reports whether err says a query that must return one row returned none.
func noRows(err error) bool { return errors.Is(err, sql.ErrNoRows) || errors.Is(err, pgx.ErrNoRows) }

// CreateAccount implements ledger.Store.
func (s *LedgerShared) CreateAccount(ctx context.Context, a ledger.Account) (ledger.Account, error) {
	if err := a.Validate(); err != nil {
		return a, err
	}
	if a.OpenedAt.IsZero() {
		a.OpenedAt = time.Now()
	}
	a.OpenedAt = fromMicros(micros(a.OpenedAt))
	if a.Status == "" {
		a.Status = ledger.Open
	}
	a.Balance, a.Held = 0, 0
	err := s.db.W().QueryRow(ctx, `INSERT INTO accounts (customer_id, kind, name, currency, status, number, routing, limit_minor, unbounded, opened_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
		int64(a.Customer), string(a.Kind), a.Name, string(a.Currency), string(a.Status), string(a.Number), a.Routing,
		int64(a.Limit), a.Unbounded, micros(a.OpenedAt)).Scan(&a.ID)
	return a, s.db.Err("sqlstore.Ledger.CreateAccount", err, ledger.ErrDuplicate)
}

// SetAccountStatus implements ledger.Store: one single-row UPDATE, which on
// PostgreSQL waits for a batch holding the row's lock and cannot deadlock
// with one. SQLite's store wraps it to keep its account cache true.
func (s *LedgerShared) SetAccountStatus(ctx context.Context, id ledger.AccountID, st ledger.AccountStatus) error {
	switch st {
	case ledger.Open, ledger.Frozen, ledger.Closed:
	default:
		return bankbridge.E(bankbridge.Invalid, "account_status_invalid", "unknown account status")
	}
	res, err := s.db.W().Exec(ctx, `UPDATE accounts SET status = $1 WHERE id = $2`, string(st), int64(id))
	if err != nil {
		return s.db.Err("sqlstore.Ledger.SetAccountStatus", err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ledger.ErrAccountNotFound
	}
	return nil
}

// Account implements ledger.Store.
func (s *LedgerShared) Account(ctx context.Context, id ledger.AccountID) (ledger.Account, error) {
	a, err := ScanAccount(s.db.R().QueryRow(ctx, `SELECT `+AccountCols+` FROM accounts WHERE id = $1`, int64(id)))
	if noRows(err) {
		return ledger.Account{}, ledger.ErrAccountNotFound
	}
	return a, s.db.Err("sqlstore.Ledger.Account", err, nil)
}

// CustomerAccounts implements ledger.Store: the customer's accounts by id.
func (s *LedgerShared) CustomerAccounts(ctx context.Context, c bankbridge.CustomerID) ([]ledger.Account, error) {
	const op = "sqlstore.Ledger.CustomerAccounts"
	rows, err := s.db.R().Query(ctx, `SELECT `+AccountCols+` FROM accounts WHERE customer_id = $1 ORDER BY id`, int64(c))
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	out, err := Collect(rows, ScanAccount)
	return out, s.db.Err(op, err, nil)
}

// TransferCols are the columns ScanTransfer reads.
const TransferCols = `id, client, idem_key, currency, description, merchant_id, category, status, created_at, posted_at, voided_at`

// ScanTransfer reads one row of TransferCols, and the extra destinations
// given after them.
func ScanTransfer(r Scanner, extra ...any) (ledger.Transfer, error) {
	var t ledger.Transfer
	var c, p, v int64
	err := r.Scan(append([]any{&t.ID, &t.Client, &t.Key, &t.Currency, &t.Description, &t.Merchant, &t.Category, &t.Status, &c, &p, &v}, extra...)...)
	t.Created, t.Posted, t.Voided = fromMicros(c), fromMicros(p), fromMicros(v)
	return t, err
}

// Legs is what a transfer's legs column holds (migration 0016): its
// postings as ledger.EncodePostings writes them, in the order both engines
// read them back, amount then account (debits first).
func Legs(ps []ledger.Posting) string {
	byAmount := func(a, b ledger.Posting) int {
		return cmp.Or(cmp.Compare(a.Amount, b.Amount), cmp.Compare(a.Account, b.Account))
	}
	if !slices.IsSortedFunc(ps, byAmount) {
		ps = slices.SortedFunc(slices.Values(ps), byAmount)
	}
	return ledger.EncodePostings(ps)
}

// ScanTransferLegs reads one row of TransferCols followed by legs, and the
// extra destinations given after them.
func ScanTransferLegs(r Scanner, extra ...any) (ledger.Transfer, error) {
	var legs string
	t, err := ScanTransfer(r, append([]any{&legs}, extra...)...)
	if err != nil {
		return t, err
	}
	if t.Postings, err = ledger.DecodePostings(legs); err != nil {
		return t, fmt.Errorf("transfer %d: %w", t.ID, err)
	}
	return t, nil
}

// ReadTransfer reads transfer id with its postings (its legs) through q.
// ErrTransferNotFound if there is none.
func ReadTransfer(ctx context.Context, q Querier, id ledger.TransferID) (ledger.Transfer, error) {
	t, err := ScanTransferLegs(q.QueryRow(ctx, `SELECT `+TransferCols+`, legs FROM transfers WHERE id = $1`, int64(id)))
	if noRows(err) {
		return t, ledger.ErrTransferNotFound
	}
	return t, err
}

// Transfer implements ledger.Store.
func (s *LedgerShared) Transfer(ctx context.Context, id ledger.TransferID) (ledger.Transfer, error) {
	t, err := ReadTransfer(ctx, s.db.R(), id)
	if errors.Is(err, ledger.ErrTransferNotFound) {
		return ledger.Transfer{}, err
	}
	return t, s.db.Err("sqlstore.Ledger.Transfer", err, nil)
}

// History implements ledger.Store: a backward range scan of the postings
// primary key (account_id, at, transfer_id) from the cursor on, joined to
// transfers for the filters. Known limit: a filter that matches rarely
// (Search, Status) may scan many postings to fill a page.
func (s *LedgerShared) History(ctx context.Context, q ledger.HistoryQuery) (ledger.HistoryPage, error) {
	const op = "sqlstore.Ledger.History"
	limit, err := ledger.HistoryLimit(q.Limit)
	if err != nil {
		return ledger.HistoryPage{}, err
	}
	args := []any{int64(q.Account)}
	where := []string{"p.account_id = $1"}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.After != nil {
		// The casts tell PostgreSQL the row comparison's types.
		where = append(where, "(p.at, p.transfer_id) < (CAST("+arg(micros(q.After.At))+" AS BIGINT), CAST("+arg(int64(q.After.ID))+" AS BIGINT))")
	}
	if !q.From.IsZero() {
		where = append(where, "p.at >= "+arg(micros(q.From)))
	}
	if !q.To.IsZero() {
		where = append(where, "p.at < "+arg(micros(q.To)))
	}
	if q.Status != "" {
		where = append(where, "t.status = "+arg(string(q.Status)))
	}
	if q.Search != "" {
		// Case folded on both sides, the same on both engines (Dialect.fold).
		where = append(where, s.db.d.fold+"("+shownDescription(q.Lang, "t.description")+`) LIKE `+arg(Fold("%"+ledger.EscapeLike(q.Search)+"%"))+` ESCAPE '\'`)
	}
	lim := arg(limit + 1)
	rows, err := s.db.R().Query(ctx, `SELECT t.id, t.client, t.idem_key, t.currency, t.description, t.merchant_id, t.category, t.status,
  t.created_at, t.posted_at, t.voided_at, p.amount
FROM postings p JOIN transfers t ON t.id = p.transfer_id
WHERE `+strings.Join(where, " AND ")+`
ORDER BY p.at DESC, p.transfer_id DESC LIMIT `+lim, args...)
	if err != nil {
		return ledger.HistoryPage{}, s.db.Err(op, err, nil)
	}
	var page ledger.HistoryPage
	page.Entries, err = Collect(rows, func(r Scanner) (ledger.Entry, error) {
		var e ledger.Entry
		var err error
		e.Transfer, err = ScanTransfer(r, &e.Amount)
		return e, err
	})
	if err != nil {
		return ledger.HistoryPage{}, s.db.Err(op, err, nil)
	}
	page.Trim(limit)
	return page, nil
}

// shownDescriptions caches shownDescription's expressions by language.
var shownDescriptions sync.Map // lang -> string

// shownDescription is an SQL expression of col as ledger.DescriptionIn
// shows it in lang, for a search of the words the customer reads
// (HistoryQuery.Lang): a CASE over ledger.WordingIn's rules, in their
// order, whole descriptions, then endings, then beginnings. The rules are
// the bank's constants, written as literals (quotes doubled), so the
// statement's text is the same on every call and the engines' statement
// caches keep it. substr and length count characters on both engines; a
// rule's English is ASCII (ledger's TestWordingIsASCII), so its length in
// characters is its length in bytes, as Go's strings.CutPrefix counts.
// col itself for English.
func shownDescription(lang, col string) string {
	w, ok := ledger.WordingIn(lang)
	if !ok {
		return col
	}
	key := lang + "\x00" + col
	if e, ok := shownDescriptions.Load(key); ok {
		return e.(string)
	}
	lit := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	var b strings.Builder
	b.WriteString("(CASE")
	for _, p := range w.Whole {
		fmt.Fprintf(&b, " WHEN %s = %s THEN %s", col, lit(p.From), lit(p.To))
	}
	for _, p := range w.Suffixes {
		n := len(p.From)
		fmt.Fprintf(&b, " WHEN length(%[1]s) >= %[2]d AND substr(%[1]s, length(%[1]s) - %[3]d) = %[4]s THEN substr(%[1]s, 1, length(%[1]s) - %[2]d) || %[5]s",
			col, n, n-1, lit(p.From), lit(p.To))
	}
	for _, p := range w.Prefixes {
		n := len(p.From)
		fmt.Fprintf(&b, " WHEN substr(%[1]s, 1, %[2]d) = %[3]s THEN %[4]s || substr(%[1]s, %[5]d)", col, n, lit(p.From), lit(p.To), n+1)
	}
	fmt.Fprintf(&b, " ELSE %s END)", col)
	e, _ := shownDescriptions.LoadOrStore(key, b.String())
	return e.(string)
}

// Verify implements ledger.Store with ledgerChecks, inside one read-only snapshot (DB.Snapshot) so that
// every check sees the same state while batches keep committing.
func (s *LedgerShared) Verify(ctx context.Context) (ledger.Report, error) {
	const op = "sqlstore.Ledger.Verify"
	var r ledger.Report
	q, done, err := s.db.Snapshot(ctx)
	if err != nil {
		return r, s.db.Err(op, err, nil)
	}
	defer done()
	if err := q.QueryRow(ctx, `SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM transfers), (SELECT count(*) FROM postings)`).
		Scan(&r.Accounts, &r.Transfers, &r.Postings); err != nil {
		return r, s.db.Err(op, err, nil)
	}
	for _, c := range ledgerChecks {
		if c.SQL == "" {
			if err := checkLegs(ctx, q, &r); err != nil {
				return r, s.db.Err(op+" "+c.Name, err, nil)
			}
			continue
		}
		rows, err := q.Query(ctx, c.SQL)
		if err != nil {
			return r, s.db.Err(op+" "+c.Name, err, nil)
		}
		problems, err := Collect(rows, func(row Scanner) (string, error) {
			var id string
			var a, b int64
			err := row.Scan(&id, &a, &b)
			return fmt.Sprintf(c.Format, id, a, b), err
		})
		if err != nil {
			return r, s.db.Err(op+" "+c.Name, err, nil)
		}
		r.Problems = append(r.Problems, problems...)
	}
	return r, nil
}

// checkLegs checks, in one pass over transfers and one over postings in
// their key's order (no index by transfer needed, nothing sorted), that
// every transfer's legs sum to zero over at least two, and that each
// account's postings are what the legs say: the same sum over the same
// number. Where an account's are not, drill names the transfers.
func checkLegs(ctx context.Context, q Querier, r *ledger.Report) error {
	legs := map[ledger.AccountID]fold{}
	err := eachLegs(ctx, q, func(id ledger.TransferID, ps []ledger.Posting) {
		var sum int64
		for _, p := range ps {
			sum += int64(p.Amount)
			legs[p.Account] = legs[p.Account].add(p.Amount)
		}
		if sum != 0 || len(ps) < 2 {
			r.Problems = append(r.Problems, fmt.Sprintf("transfer %d: postings sum to %d over %d postings", id, sum, len(ps)))
		}
	}, r)
	if err != nil {
		return err
	}
	rows, err := q.Query(ctx, `SELECT account_id, CAST(sum(amount) AS BIGINT), count(*) FROM postings GROUP BY account_id ORDER BY account_id`)
	if err != nil {
		return err
	}
	bad := map[ledger.AccountID]fold{} // accounts whose postings are not their legs: what the postings hold
	err = each(rows, func(row Scanner) error {
		var a ledger.AccountID
		var got fold
		if err := row.Scan(&a, &got.sum, &got.n); err != nil {
			return err
		}
		if got != legs[a] {
			bad[a] = got
		}
		delete(legs, a)
		return nil
	})
	if err != nil {
		return err
	}
	for a := range legs {
		bad[a] = fold{}
	}
	if len(bad) == 0 {
		return nil
	}
	return drill(ctx, q, r, bad)
}

// fold is a sum over a number of postings.
type fold struct{ sum, n int64 }

func (f fold) add(a ledger.Amount) fold { return fold{f.sum + int64(a), f.n + 1} }

// eachLegs calls fn with every transfer's legs, in id order; legs that do
// not read are a problem of r. The legs slice is reused from call to call:
// this runs over every transfer, and allocating per row was most of its cost.
func eachLegs(ctx context.Context, q Querier, fn func(ledger.TransferID, []ledger.Posting), r *ledger.Report) error {
	rows, err := q.Query(ctx, `SELECT id, legs FROM transfers ORDER BY id`)
	if err != nil {
		return err
	}
	var enc []byte
	var ps []ledger.Posting
	return each(rows, func(row Scanner) error {
		var id ledger.TransferID
		if err := row.Scan(&id, &enc); err != nil {
			return err
		}
		var ok bool
		if ps, ok = parseLegs(enc, ps[:0]); !ok {
			r.Problems = append(r.Problems, fmt.Sprintf("transfer %d: legs %q do not read", id, enc))
			return nil
		}
		fn(id, ps)
		return nil
	})
}

// parseLegs appends to ps the legs b holds, "account:amount,...", as
// ledger.DecodePostings reads them, without allocating. It refuses
// what DecodePostings refuses, and an amount of -1<<63, which no
// transfer has.
func parseLegs(b []byte, ps []ledger.Posting) ([]ledger.Posting, bool) {
	num := func() (int64, bool) {
		neg := len(b) > 0 && b[0] == '-'
		if neg {
			b = b[1:]
		}
		var v int64
		n := 0
		for ; n < len(b) && b[n] >= '0' && b[n] <= '9'; n++ {
			d := int64(b[n] - '0')
			if v > (math.MaxInt64-d)/10 {
				return 0, false
			}
			v = v*10 + d
		}
		b = b[n:]
		if neg {
			v = -v
		}
		return v, n > 0
	}
	for len(b) > 0 {
		a, ok1 := num()
		if !ok1 || len(b) == 0 || b[0] != ':' {
			return ps, false
		}
		b = b[1:]
		m, ok2 := num()
		if !ok2 || len(b) > 0 && b[0] != ',' {
			return ps, false
		}
		if len(b) > 0 {
			b = b[1:]
			if len(b) == 0 {
				return ps, false
			}
		}
		ps = append(ps, ledger.Posting{Account: ledger.AccountID(a), Amount: ledger.Amount(m)})
	}
	return ps, true
}

// maxDrill bounds the accounts drill looks into: past it Verify has
// already said enough.
const maxDrill = 100

// drill finds the transfers whose postings on the bad accounts differ from
// their legs: it reads those accounts' postings (ranges of the postings
// key) and the legs once more. A transfer whose postings, so corrected, no
// longer sum to zero over at least two is named as the check by transfer
// always did; an account whose differences leave every sum at zero (a
// posting moved to another account) is named itself.
func drill(ctx context.Context, q Querier, r *ledger.Report, bad map[ledger.AccountID]fold) error {
	accts := slices.Sorted(maps.Keys(bad))[:min(len(bad), maxDrill)]
	posted := map[ledger.AccountID]map[ledger.TransferID]fold{}
	for _, a := range accts {
		posted[a] = map[ledger.TransferID]fold{}
		rows, err := q.Query(ctx, `SELECT transfer_id, amount FROM postings WHERE account_id = $1`, int64(a))
		if err != nil {
			return err
		}
		err = each(rows, func(row Scanner) error {
			var t ledger.TransferID
			var amt ledger.Amount
			if err := row.Scan(&t, &amt); err != nil {
				return err
			}
			posted[a][t] = posted[a][t].add(amt)
			return nil
		})
		if err != nil {
			return err
		}
	}
	legsOf := map[ledger.TransferID][]ledger.Posting{} // transfers with a leg on a bad account
	err := eachLegs(ctx, q, func(id ledger.TransferID, ps []ledger.Posting) {
		for _, p := range ps {
			if _, ok := posted[p.Account]; ok {
				legsOf[id] = slices.Clone(ps)
				return
			}
		}
	}, &ledger.Report{})
	if err != nil {
		return err
	}
	// Transfers where some bad account's postings differ from the legs.
	differ := map[ledger.TransferID]bool{}
	for _, a := range accts {
		want := map[ledger.TransferID]fold{}
		for t, ps := range legsOf {
			for _, p := range ps {
				if p.Account == a {
					want[t] = want[t].add(p.Amount)
				}
			}
		}
		for t, f := range posted[a] {
			if want[t] != f {
				differ[t] = true
			}
		}
		for t, f := range want {
			if posted[a][t] != f {
				differ[t] = true
			}
		}
	}
	named := map[ledger.AccountID]bool{}
	for _, t := range slices.Sorted(maps.Keys(differ)) {
		// What the transfer's postings hold: its legs on the accounts
		// that agree, what is posted on those that do not.
		var got fold
		for _, p := range legsOf[t] {
			if _, ok := posted[p.Account]; !ok {
				got = got.add(p.Amount)
			}
		}
		var on []ledger.AccountID
		for _, a := range accts {
			if f, ok := posted[a][t]; ok {
				got = fold{got.sum + f.sum, got.n + f.n}
				on = append(on, a)
			}
		}
		if got.sum != 0 || got.n < 2 {
			r.Problems = append(r.Problems, fmt.Sprintf("transfer %d: postings sum to %d over %d postings", t, got.sum, got.n))
			for _, a := range on {
				named[a] = true
			}
		}
	}
	for _, a := range accts {
		if !named[a] {
			r.Problems = append(r.Problems, fmt.Sprintf("account %d: postings sum to %d over %d, but the transfers' legs to a different sum or number", a, bad[a].sum, bad[a].n))
		}
	}
	return nil
}

// Events implements ledger.Store: a range scan of the events' primary key.
// Sequences are in commit order (each engine's Apply says how), so what
// this returns is always a prefix of what will ever follow after.
func (s *LedgerShared) Events(ctx context.Context, after ledger.EventSeq, limit int) ([]ledger.Event, error) {
	const op = "sqlstore.Ledger.Events"
	limit, err := ledger.EventLimit(limit)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.R().Query(ctx, `SELECT seq, transfer_id, status, settles, currency, postings, merchant_id, category, description, at
FROM ledger_events WHERE seq > $1 ORDER BY seq LIMIT $2`, int64(after), limit)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	out, err := Collect(rows, func(r Scanner) (ledger.Event, error) {
		var e ledger.Event
		var ps string
		var at int64
		if err := r.Scan(&e.Seq, &e.Transfer, &e.Status, &e.Settles, &e.Currency, &ps, &e.Merchant, &e.Category, &e.Description, &at); err != nil {
			return e, err
		}
		e.At = fromMicros(at)
		var err error
		e.Postings, err = ledger.DecodePostings(ps)
		return e, err
	})
	return out, s.db.Err(op, err, nil)
}

// CreateMerchant implements ledger.Store.
func (s *LedgerShared) CreateMerchant(ctx context.Context, m ledger.Merchant) (ledger.Merchant, error) {
	err := s.db.W().QueryRow(ctx, `INSERT INTO merchants (name, mcc, category, city, country) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		m.Name, m.MCC, m.Category, m.City, m.Country).Scan(&m.ID)
	return m, s.db.Err("sqlstore.Ledger.CreateMerchant", err, ledger.ErrDuplicate)
}

// Merchant implements ledger.Store; an unknown id is ErrMerchantNotFound.
func (s *LedgerShared) Merchant(ctx context.Context, id ledger.MerchantID) (ledger.Merchant, error) {
	m := ledger.Merchant{ID: id}
	err := s.db.R().QueryRow(ctx, `SELECT name, mcc, category, city, country FROM merchants WHERE id = $1`, int64(id)).
		Scan(&m.Name, &m.MCC, &m.Category, &m.City, &m.Country)
	if noRows(err) {
		return ledger.Merchant{}, ledger.ErrMerchantNotFound
	}
	if err != nil {
		return ledger.Merchant{}, s.db.Err("sqlstore.Ledger.Merchant", err, nil)
	}
	return m, nil
}

// CreateCard implements ledger.Store. The account must exist
// (ErrAccountNotFound otherwise).
func (s *LedgerShared) CreateCard(ctx context.Context, c ledger.Card) (ledger.Card, error) {
	if c.Created.IsZero() {
		c.Created = time.Now()
	}
	c.Created = fromMicros(micros(c.Created))
	if c.Status == "" {
		c.Status = ledger.CardActive
	}
	err := s.db.W().QueryRow(ctx, `INSERT INTO cards (account_id, customer_id, last4, network, status, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		int64(c.Account), int64(c.Customer), c.Last4, c.Network, string(c.Status), micros(c.Created)).Scan(&c.ID)
	if s.db.Foreign(err) {
		return c, ledger.ErrAccountNotFound
	}
	return c, s.db.Err("sqlstore.Ledger.CreateCard", err, ledger.ErrDuplicate)
}

// CustomerCards implements ledger.Store: the customer's cards by id.
func (s *LedgerShared) CustomerCards(ctx context.Context, cust bankbridge.CustomerID) ([]ledger.Card, error) {
	const op = "sqlstore.Ledger.CustomerCards"
	rows, err := s.db.R().Query(ctx, `SELECT id, account_id, customer_id, last4, network, status, created_at FROM cards WHERE customer_id = $1 ORDER BY id`, int64(cust))
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	out, err := Collect(rows, func(r Scanner) (ledger.Card, error) {
		var c ledger.Card
		var created int64
		err := r.Scan(&c.ID, &c.Account, &c.Customer, &c.Last4, &c.Network, &c.Status, &created)
		c.Created = fromMicros(created)
		return c, err
	})
	return out, s.db.Err(op, err, nil)
}

// SetCardStatus implements ledger.Store; an unknown id is ErrCardNotFound.
func (s *LedgerShared) SetCardStatus(ctx context.Context, id ledger.CardID, st ledger.CardStatus) error {
	if st != ledger.CardActive && st != ledger.CardFrozen {
		return bankbridge.E(bankbridge.Invalid, "card_status_invalid", "unknown card status")
	}
	res, err := s.db.W().Exec(ctx, `UPDATE cards SET status = $1 WHERE id = $2`, string(st), int64(id))
	if err != nil {
		return s.db.Err("sqlstore.Ledger.SetCardStatus", err, nil)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ledger.ErrCardNotFound
	}
	return nil
}

// CreatePayee implements ledger.Store. A nickname the customer already uses
// is ErrDuplicate.
func (s *LedgerShared) CreatePayee(ctx context.Context, p ledger.Payee) (ledger.Payee, error) {
	if p.Created.IsZero() {
		p.Created = time.Now()
	}
	p.Created = fromMicros(micros(p.Created))
	err := s.db.W().QueryRow(ctx, `INSERT INTO payees (customer_id, name, nickname, account_id, routing, number, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		int64(p.Customer), p.Name, p.Nickname, int64(p.Account), p.Routing, string(p.Number), micros(p.Created)).Scan(&p.ID)
	return p, s.db.Err("sqlstore.Ledger.CreatePayee", err, ledger.ErrDuplicate)
}

// Payees implements ledger.Store: the customer's payees by nickname (SQLite
// compares bytes, PostgreSQL by the database's collation), then id.
func (s *LedgerShared) Payees(ctx context.Context, cust bankbridge.CustomerID) ([]ledger.Payee, error) {
	const op = "sqlstore.Ledger.Payees"
	rows, err := s.db.R().Query(ctx, `SELECT id, customer_id, name, nickname, account_id, routing, number, created_at FROM payees WHERE customer_id = $1 ORDER BY nickname, id`, int64(cust))
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	out, err := Collect(rows, func(r Scanner) (ledger.Payee, error) {
		var p ledger.Payee
		var created int64
		err := r.Scan(&p.ID, &p.Customer, &p.Name, &p.Nickname, &p.Account, &p.Routing, &p.Number, &created)
		p.Created = fromMicros(created)
		return p, err
	})
	return out, s.db.Err(op, err, nil)
}

// ledgerCheck is one of the ledger's invariants, checked by Verify: SQL,
// portable SQL that both engines run unchanged, returns rows of (id text,
// a bigint, b bigint), one per violation, rendered with Format. Keeping one
// copy means SQLite and PostgreSQL verify exactly the same rules.
type ledgerCheck struct {
	Name   string
	SQL    string
	Format string // fmt verb string over (id string, a int64, b int64)
}

// ledgerChecks are the ledger invariants Verify runs in SQL, in order;
// checkLegs runs after them.
var ledgerChecks = []ledgerCheck{
	{
		Name: "balance_is_fold_of_postings",
		SQL: `SELECT CAST(a.id AS TEXT), a.balance, coalesce(x.s, 0) FROM accounts a
LEFT JOIN (SELECT p.account_id, sum(p.amount) AS s FROM postings p JOIN transfers t ON t.id = p.transfer_id
           WHERE t.status = 'posted' GROUP BY p.account_id) x ON x.account_id = a.id
WHERE a.balance <> coalesce(x.s, 0) ORDER BY a.id`,
		Format: "account %s: stored balance %d, but its posted postings sum to %d",
	},
	{
		Name: "held_is_fold_of_pending_debits",
		SQL: `SELECT CAST(a.id AS TEXT), a.held, coalesce(x.s, 0) FROM accounts a
LEFT JOIN (SELECT p.account_id, sum(-p.amount) AS s FROM postings p JOIN transfers t ON t.id = p.transfer_id
           WHERE t.status = 'pending' AND p.amount < 0 GROUP BY p.account_id) x ON x.account_id = a.id
WHERE a.held <> coalesce(x.s, 0) ORDER BY a.id`,
		Format: "account %s: stored holds %d, but its pending debits sum to %d",
	},
	{
		// Go, not SQL: checkLegs.
		Name:   "transfer_sums_to_zero",
		Format: "transfer %s: postings sum to %d over %d postings",
	},
	{
		Name: "posting_currency_matches_account",
		SQL: `SELECT CAST(p.transfer_id AS TEXT), p.account_id, 0 FROM postings p
JOIN transfers t ON t.id = p.transfer_id JOIN accounts a ON a.id = p.account_id
WHERE a.currency <> t.currency ORDER BY p.transfer_id`,
		Format: "transfer %s: account %d is in another currency%.0d",
	},
	{
		Name:   "currency_sums_to_zero",
		SQL:    `SELECT currency, sum(balance), count(*) FROM accounts GROUP BY currency HAVING sum(balance) <> 0 ORDER BY currency`,
		Format: "currency %s: balances sum to %d over %d accounts, not zero",
	},
	{
		Name: "within_limit",
		SQL: `SELECT CAST(id AS TEXT), balance - held, limit_minor FROM accounts
WHERE NOT unbounded AND balance - held < -limit_minor ORDER BY id`,
		Format: "account %s: available %d is past its limit %d",
	},
}
