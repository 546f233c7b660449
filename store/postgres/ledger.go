package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LedgerStore implements ledger.Store on PostgreSQL: Apply here; the rest,
// the same SQL on both engines, is sqlstore's. Apply is set-oriented: a batch costs a constant number of
// statements whatever its size, because PostgreSQL on a small machine is
// bound by CPU per statement.
type LedgerStore struct {
	*sqlstore.LedgerShared
	db *DB
}

var _ ledger.Store = (*LedgerStore)(nil)

// Ledger returns the ledger store of db.
func (db *DB) Ledger() *LedgerStore { return &LedgerStore{LedgerShared: db.sql.LedgerShared(), db: db} }

// errKeyRace is what Apply answers when another transaction (another batcher
// or instance) inserted one of the batch's idempotency keys first: nothing
// of the batch was written and a retry will see the stored transfer and
// replay it.
var errKeyRace = bankbridge.E(bankbridge.Unavailable, "database_busy", "the database is busy; try again")

const accountCols = `id, customer_id, kind, name, currency, status, number, routing, limit_minor, unbounded, balance, held, opened_at`

func scanAccount(r pgx.Row) (ledger.Account, error) {
	var a ledger.Account
	var id, cust, limit, bal, held, opened int64
	var kind, cur, status, number string
	err := r.Scan(&id, &cust, &kind, &a.Name, &cur, &status, &number, &a.Routing, &limit, &a.Unbounded, &bal, &held, &opened)
	a.ID, a.Customer, a.Limit, a.Balance, a.Held = ledger.AccountID(id), bankbridge.CustomerID(cust), ledger.Amount(limit), ledger.Amount(bal), ledger.Amount(held)
	a.Kind, a.Currency, a.Status, a.Number = ledger.AccountKind(kind), ledger.Currency(cur), ledger.AccountStatus(status), ledger.AccountNumber(number)
	a.OpenedAt = fromMicros(opened)
	return a, err
}

// transferCols selects a transfer with its legs (sqlstore.ScanTransferLegs).
const transferCols = `t.id, t.client, t.idem_key, t.currency, t.description, t.merchant_id, t.category, t.status,
  t.created_at, t.posted_at, t.voided_at, t.legs`

// scanTransfer reads transferCols, plus the extra destinations given (the
// request hash when Apply needs it).
func scanTransfer(r pgx.Row, extra ...any) (ledger.Transfer, error) {
	return sqlstore.ScanTransferLegs(r, extra...)
}

// Apply implements ledger.Store with one READ COMMITTED transaction and a
// fixed number of statements per batch, whatever its size:
//
//  1. the pending targets of post and void ops with their postings, locked
//     in ascending id order (skipped when the batch has none);
//  2. every account the batch touches, locked in ascending id order, and
//  3. the transfers already stored under the batch's keys, read once those
//     locks are held; 2 and 3 pipelined in one round trip (3 only on a
//     second attempt: see apply);
//  4. ledger.Decide on that snapshot (the rules live only there);
//  5. one nextval per new transfer, in one statement;
//  6. the status changes of post and void (skipped when none), then,
//     pipelined, all new transfers, all their postings and all touched
//     balances, each one statement over arrays (unnest).
//
// Lock order is global: target transfers (ascending id) before accounts
// (ascending id), so concurrent batches, in this process or another, can
// wait on each other but never deadlock. A target's status is read under
// its row lock, so two batches cannot both post the same hold. The
// balances written in step 6 come from the snapshot, which is safe because
// the rows stay locked until commit.
//
// A key inserted concurrently by another transaction (unique violation on
// transfers_client_key), a deadlock or a serialization failure ends the
// batch with an Unavailable error and nothing written; the Service retries
// it, and a retry replays the transfer the other transaction stored.
func (s *LedgerStore) Apply(ctx context.Context, ops []ledger.Op, now time.Time) ([]ledger.Result, error) {
	if len(ops) == 0 {
		return nil, nil
	}
	res, retry, err := s.apply(ctx, ops, now, false)
	if retry {
		res, _, err = s.apply(ctx, ops, now, true)
	}
	return res, err
}

// apply runs one attempt at a batch. Most keys are new, so the first
// attempt (lookupKeys false) does not look them up: a key already stored
// (a client's retry) then fails the insert of transfers with a unique
// violation, or, if the op was refused and so inserted nothing, shows in a
// look-up of the refused ops' keys alone; either way the attempt ends with
// retry true and nothing written, and the second attempt looks every key
// up first. The look-up was one index probe per key on every batch;
// retries are rare.
func (s *LedgerStore) apply(ctx context.Context, ops []ledger.Op, now time.Time, lookupKeys bool) (_ []ledger.Result, retry bool, _ error) {
	const op = "postgres.Ledger.Apply"

	var clients, keys []string
	var tids []int64
	seenT := map[ledger.TransferID]bool{}
	for _, o := range ops {
		if o.Kind == ledger.OpCreate {
			clients = append(clients, o.Request.Client)
			keys = append(keys, o.Request.Key)
		} else if !seenT[o.Transfer] {
			seenT[o.Transfer] = true
			tids = append(tids, int64(o.Transfer))
		}
	}

	tx, err := s.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, false, mapErr(op, err, nil)
	}
	defer tx.Rollback(context.Background())

	snap := ledger.Snapshot{
		Accounts: make(map[ledger.AccountID]*ledger.Account),
		Existing: make(map[ledger.Key]ledger.Stored),
		Targets:  make(map[ledger.TransferID]*ledger.Transfer),
	}

	// 1. Targets, locked before any account (see the lock order above).
	if len(tids) > 0 {
		rows, err := tx.Query(ctx, `SELECT `+transferCols+` FROM transfers t WHERE t.id = ANY($1) ORDER BY t.id FOR NO KEY UPDATE OF t`, customPlan, tids)
		if err != nil {
			return nil, false, mapErr(op, err, nil)
		}
		for rows.Next() {
			t, err := scanTransfer(rows)
			if err != nil {
				rows.Close()
				return nil, false, mapErr(op, err, nil)
			}
			snap.Targets[t.ID] = &t
		}
		if err := rows.Err(); err != nil {
			return nil, false, mapErr(op, err, nil)
		}
	}

	// 2 and 3, pipelined in one round trip: every account the batch touches,
	// locked in ascending id order, then the transfers already stored under
	// the batch's keys. The lookup runs after the locks are granted, so it
	// sees every batch that held them before: a retry racing its original
	// on the same accounts finds it and replays instead of colliding.
	//
	// FOR NO KEY UPDATE excludes every other batch and status change just as
	// FOR UPDATE would, but not the key-share locks of foreign keys, so
	// opening a card on an account does not wait for a batch.
	//
	// The key lookup is one probe of transfers_client_key per key. LIMIT 1
	// keeps the subquery from being flattened into a join, which a cached
	// plan made while transfers was small would run as a hash join over a
	// full scan of transfers, once per batch, long after it had grown.
	b := &pgx.Batch{}
	if ids := ledger.Accounts(ops, snap.Targets); len(ids) > 0 {
		aids := make([]int64, len(ids))
		for i, id := range ids {
			aids[i] = int64(id)
		}
		b.Queue(`SELECT `+accountCols+` FROM accounts WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, aids).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					a, err := scanAccount(rows)
					if err != nil {
						return err
					}
					snap.Accounts[a.ID] = &a
				}
				return rows.Err()
			})
	}
	if len(keys) > 0 && lookupKeys {
		b.Queue(`SELECT `+transferCols+`, t.request_hash
FROM unnest($1::text[], $2::text[]) k(client, idem_key),
LATERAL (SELECT * FROM transfers WHERE client = k.client AND idem_key = k.idem_key LIMIT 1) t`, clients, keys).
			Query(func(rows pgx.Rows) error {
				for rows.Next() {
					var hash []byte
					t, err := scanTransfer(rows, &hash)
					if err != nil {
						return err
					}
					if len(hash) != 32 {
						return fmt.Errorf("transfer %d: request hash of %d bytes", t.ID, len(hash))
					}
					snap.Existing[ledger.Key{Client: t.Client, Key: t.Key}] = ledger.Stored{Transfer: t, Hash: [32]byte(hash)}
				}
				return rows.Err()
			})
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, false, mapErr(op, err, nil)
		}
	}

	// 4. The rules.
	plan := ledger.Decide(ops, snap, now)

	if !lookupKeys {
		// A refused op may be the retry of a transfer already booked, which
		// must replay rather than be refused again: look up refused keys.
		var rc, rk []string
		for i, o := range ops {
			if o.Kind == ledger.OpCreate && plan.Results[i].Err != nil {
				rc, rk = append(rc, o.Request.Client), append(rk, o.Request.Key)
			}
		}
		if len(rc) > 0 {
			var found bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM unnest($1::text[], $2::text[]) k(client, idem_key)
  JOIN transfers t ON t.client = k.client AND t.idem_key = k.idem_key)`, rc, rk).Scan(&found); err != nil {
				return nil, false, mapErr(op, err, nil)
			}
			if found {
				return nil, true, nil
			}
		}
	}

	// 5. Ids for the new transfers, in one statement.
	if len(plan.New) > 0 {
		rows, err := tx.Query(ctx, `SELECT nextval('transfers_id_seq') FROM generate_series(1, $1)`, len(plan.New))
		if err != nil {
			return nil, false, mapErr(op, err, nil)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return nil, false, mapErr(op, err, nil)
		}
		if len(got) != len(plan.New) {
			return nil, false, fmt.Errorf("%s: asked %d transfer ids, got %d", op, len(plan.New), len(got))
		}
		ids := make([]ledger.TransferID, len(got))
		for i, v := range got {
			ids[i] = ledger.TransferID(v)
		}
		plan.SetIDs(ids)
	}

	// 6. Writes. Statements with nothing to do are not sent.
	if len(plan.Changes) > 0 {
		n := len(plan.Changes)
		id, st, posted, voided := make([]int64, n), make([]string, n), make([]int64, n), make([]int64, n)
		for i, c := range plan.Changes {
			id[i], st[i] = int64(c.ID), string(c.Status)
			if c.Status == ledger.Posted {
				posted[i] = micros(c.At)
			} else {
				voided[i] = micros(c.At)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE transfers SET status = v.status,
  posted_at = CASE WHEN v.posted <> 0 THEN v.posted ELSE transfers.posted_at END,
  voided_at = CASE WHEN v.voided <> 0 THEN v.voided ELSE transfers.voided_at END
FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[]) v(id, status, posted, voided)
WHERE transfers.id = v.id`, customPlan, id, st, posted, voided); err != nil {
			return nil, false, mapErr(op, err, nil)
		}
	}
	b = &pgx.Batch{}
	if len(plan.New) > 0 {
		queueInserts(b, plan.New)
	}
	if len(plan.Touched) > 0 {
		n := len(plan.Touched)
		id, bal, held := make([]int64, n), make([]int64, n), make([]int64, n)
		for i, a := range plan.Touched {
			acc := snap.Accounts[a]
			id[i], bal[i], held[i] = int64(a), int64(acc.Balance), int64(acc.Held)
		}
		b.Queue(`UPDATE accounts SET balance = v.b, held = v.h
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) v(id, b, h)
WHERE accounts.id = v.id`, id, bal, held)
	}
	if evs := plan.Events(snap); len(evs) > 0 {
		queueEvents(b, evs)
	}
	if b.Len() > 0 {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			if !lookupKeys && isConstraint(err, "transfers_client_key") {
				return nil, true, nil // a stored key: run again with look-ups
			}
			return nil, false, mapErr(op, err, errKeyRace)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, false, mapErr(op, err, errKeyRace)
	}
	return plan.Results, false, nil
}

// isConstraint reports whether err is a PostgreSQL error raised by the
// named constraint.
func isConstraint(err error, name string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.ConstraintName == name
}

// customPlan runs a statement as an unnamed prepared statement, so that
// PostgreSQL plans it for the actual array and table sizes each time rather
// than reusing a generic plan made while transfers was small (a full scan
// of transfers for a handful of ids). Used on the rarer statements that
// look transfers up by id.
const customPlan = pgx.QueryExecModeCacheDescribe

// queueInserts adds the two INSERT ... SELECT FROM unnest statements that
// write every new transfer and its postings.
//
// Transfers go in (client, key) order. A key that another open transaction
// has just inserted makes this insert wait for it; if both inserted in one
// global order, neither can wait on the other in a cycle, so two batches
// sharing keys end in a unique violation (retried) rather than a deadlock
// found only after deadlock_timeout.
func queueInserts(b *pgx.Batch, news []ledger.NewTransfer) {
	news = slices.SortedFunc(slices.Values(news), func(x, y ledger.NewTransfer) int {
		return cmp.Or(strings.Compare(x.Transfer.Client, y.Transfer.Client), strings.Compare(x.Transfer.Key, y.Transfer.Key))
	})
	n := len(news)
	var (
		id, merchant, amount, created, posted = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		client, key, cur, desc, cat, status   = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		legs                                  = make([]string, n)
		hash                                  = make([][]byte, n)
		pAcct, pAt, pID, pAmt                 []int64
	)
	np := 0
	for _, nt := range news {
		np += len(nt.Transfer.Postings)
	}
	pAcct, pAt, pID, pAmt = make([]int64, 0, np), make([]int64, 0, np), make([]int64, 0, np), make([]int64, 0, np)
	for i, nt := range news {
		t := nt.Transfer
		id[i], client[i], key[i], hash[i] = int64(t.ID), t.Client, t.Key, nt.Hash[:]
		cur[i], amount[i], desc[i], merchant[i] = string(t.Currency), int64(t.Amount()), t.Description, int64(t.Merchant)
		cat[i], status[i], created[i], posted[i] = t.Category, string(t.Status), micros(t.Created), micros(t.Posted)
		legs[i] = sqlstore.Legs(t.Postings)
	}
	// Postings go in in their primary key's order (account, at, transfer),
	// each beside the one before in the index, as on SQLite
	// (store/sqlite/ledger.go).
	type posting struct{ account, at, transfer, amount int64 }
	ps := make([]posting, 0, np)
	for _, nt := range news {
		t := nt.Transfer
		at := micros(t.Created)
		for _, p := range t.Postings {
			ps = append(ps, posting{int64(p.Account), at, int64(t.ID), int64(p.Amount)})
		}
	}
	slices.SortFunc(ps, func(a, b posting) int {
		return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.at, b.at), cmp.Compare(a.transfer, b.transfer))
	})
	for _, p := range ps {
		pAcct, pAt, pID, pAmt = append(pAcct, p.account), append(pAt, p.at), append(pID, p.transfer), append(pAmt, p.amount)
	}
	b.Queue(`INSERT INTO transfers (id, client, idem_key, request_hash, currency, amount, description, merchant_id, category, status, created_at, posted_at, legs)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[], $5::text[], $6::bigint[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::text[])`,
		id, client, key, hash, cur, amount, desc, merchant, cat, status, created, posted, legs)
	b.Queue(`INSERT INTO postings (account_id, at, transfer_id, amount)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[])`, pAcct, pAt, pID, pAmt)
}

// eventsLock is the transaction-level advisory lock that orders the outbox.
// A sequence number taken with nextval is not in commit order by itself:
// with two batches in flight, the one that took the lower number may commit
// second, and a reader that had already moved past the higher number would
// skip it. Taking this lock just before nextval and holding it to COMMIT
// makes numbers grow in commit order. It is the last lock a batch takes,
// after every row lock, so it cannot deadlock; it serialises only the tail
// of a batch (the events insert and COMMIT), while the next batch's reads,
// locks and inserts still overlap.
const eventsLock = 0x62616e6b65767473 // "bankevts"

// queueEvents adds the advisory lock and the one INSERT ... SELECT FROM
// unnest statement that writes the batch's outbox events.
func queueEvents(b *pgx.Batch, evs []ledger.Event) {
	n := len(evs)
	var (
		tid, merchant, at          = make([]int64, n), make([]int64, n), make([]int64, n)
		status, cur, ps, cat, desc = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		settles                    = make([]bool, n)
	)
	for i, e := range evs {
		tid[i], merchant[i], at[i] = int64(e.Transfer), int64(e.Merchant), micros(e.At)
		status[i], cur[i], ps[i], cat[i], desc[i] = string(e.Status), string(e.Currency), ledger.EncodePostings(e.Postings), e.Category, e.Description
		settles[i] = e.Settles
	}
	b.Queue(`SELECT pg_advisory_xact_lock($1)`, int64(eventsLock))
	b.Queue(`INSERT INTO ledger_events (seq, transfer_id, status, settles, currency, postings, merchant_id, category, description, at)
SELECT nextval('ledger_events_seq'), v.* FROM unnest($1::bigint[], $2::text[], $3::bool[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::bigint[])
  AS v(transfer_id, status, settles, currency, postings, merchant_id, category, description, at)`,
		tid, status, settles, cur, ps, merchant, cat, desc, at)
}
