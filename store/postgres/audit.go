package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/store/sqlstore"
	"github.com/jackc/pgx/v5"
)

// AuditStore implements audit.Store on PostgreSQL: the disclosure log's
// records, subtree hashes, signed heads and retention checkpoints.
type AuditStore struct {
	*sqlstore.AuditReads // the parts whose SQL is the same on both engines
	db                   *DB
	// mu guards next, the log size this instance last wrote or read, or
	// -1 when it does not know it.
	mu   sync.Mutex
	next int64
}

var _ audit.Store = (*AuditStore)(nil)

// Audit returns the audit store of db.
func (db *DB) Audit() *AuditStore {
	return &AuditStore{AuditReads: db.sql.AuditReads(), db: db, next: -1}
}

var auditCopyCols = []string{"seq", "at", "kind", "partner", "consent", "customer_id", "accounts", "clusters", "fields", "purpose", "actor", "outcome", "request_id", "detail", "leaf_hash", "leaf_key", "mac"}

// auditAppendSQL appends records numbered from $18 in one statement, and
// so one round trip: it takes the indexes from audit_state only if the
// size is still $18, and inserts nothing otherwise (another instance
// appended first). The row lock the UPDATE takes serialises appenders of
// every instance until the statement's implicit COMMIT. The arrays are
// those of auditArrays, in its order.
const auditAppendSQL = `WITH s AS (UPDATE audit_state SET size = size + $17 WHERE id = 1 AND size = $18 RETURNING size)
INSERT INTO audit_records (seq, at, customer_id, leaf_key,
	kind, partner, consent, accounts, clusters, fields, purpose, actor, outcome, request_id, detail, leaf_hash, mac)
SELECT r.* FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
	$5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
	$16::bytea[], $19::bytea[]) AS r, s`

// auditArrays holds a batch column by column, as auditAppendSQL takes it.
type auditArrays struct {
	ints  [4][]int64
	texts [11][]string
	hash  [][]byte
	mac   [][]byte
}

func (a *auditArrays) add(r *audit.Record) {
	for i, v := range [4]int64{int64(r.Seq), r.Time.UnixMicro(), int64(r.Customer), audit.LeafKey(r.LeafHash)} {
		a.ints[i] = append(a.ints[i], v)
	}
	for i, v := range [11]string{string(r.Kind), r.Partner, r.Consent, audit.JoinAccounts(r.Accounts), audit.JoinList(r.Clusters),
		audit.JoinList(r.Fields), r.Purpose, r.Actor, string(r.Outcome), r.RequestID, r.Detail} {
		a.texts[i] = append(a.texts[i], v)
	}
	a.hash = append(a.hash, r.LeafHash[:])
	a.mac = append(a.mac, r.MAC)
}

// auditAppendMax bounds the batches that go through auditAppendSQL;
// larger ones (imports, benchmarks) go through COPY.
const auditAppendMax = 1024

// Append gives recs the next leaf indexes and inserts them, dense even
// when a transaction rolls back or instances append together. When this
// instance knows the size (it wrote last), that is one statement
// (auditAppendSQL); otherwise, or when another instance wrote since, a
// transaction reads the size under audit_state's row lock and inserts
// with COPY or a multi-row INSERT.
func (s *AuditStore) Append(ctx context.Context, recs []audit.Record, tag audit.Tagger) error {
	const op = "postgres.AuditAppend"
	if len(recs) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := int64(len(recs))
	if s.next >= 0 && n <= auditAppendMax {
		ok, err := s.appendAt(ctx, recs, s.next, tag)
		if err != nil {
			s.next = -1
			return mapErr(op, err, nil)
		}
		if ok {
			s.next += n
			return nil
		}
	}
	s.next = -1
	first, err := s.appendLocked(ctx, recs, tag)
	if err != nil {
		return mapErr(op, err, nil)
	}
	s.next = first + n
	return nil
}

// appendAt inserts recs numbered from first if the log's size is first,
// and reports whether it was.
func (s *AuditStore) appendAt(ctx context.Context, recs []audit.Record, first int64, mac audit.Tagger) (bool, error) {
	audit.Number(recs, uint64(first), mac)
	var a auditArrays
	for i := range recs {
		a.add(&recs[i])
	}
	args := make([]any, 0, 19)
	for _, c := range a.ints {
		args = append(args, c)
	}
	for _, c := range a.texts {
		args = append(args, c)
	}
	args = append(args, a.hash, int64(len(recs)), first, a.mac)
	tag, err := s.db.pool.Exec(ctx, auditAppendSQL, args...)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == int64(len(recs)), nil
}

// appendLocked takes the next indexes from audit_state under its row lock
// and inserts recs in the same transaction: with a multi-row INSERT for a
// small batch, with COPY for a large one. It returns the first index.
func (s *AuditStore) appendLocked(ctx context.Context, recs []audit.Record, tag audit.Tagger) (int64, error) {
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(ctx)
	var first int64
	n := int64(len(recs))
	if err := tx.QueryRow(ctx, `UPDATE audit_state SET size = size + $1 WHERE id = 1 RETURNING size - $1`, n).Scan(&first); err != nil {
		return 0, err
	}
	audit.Number(recs, uint64(first), tag)
	row := func(r *audit.Record) []any {
		return []any{int64(r.Seq), r.Time.UnixMicro(), string(r.Kind), r.Partner, r.Consent, int64(r.Customer),
			audit.JoinAccounts(r.Accounts), audit.JoinList(r.Clusters), audit.JoinList(r.Fields), r.Purpose, r.Actor,
			string(r.Outcome), r.RequestID, r.Detail, r.LeafHash[:], audit.LeafKey(r.LeafHash), r.MAC}
	}
	if len(recs) >= 64 {
		i := 0
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"audit_records"}, auditCopyCols, pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(recs) {
				return nil, nil
			}
			i++
			return row(&recs[i-1]), nil
		}))
	} else {
		var b strings.Builder
		args := make([]any, 0, 17*len(recs))
		b.WriteString(`INSERT INTO audit_records (` + strings.Join(auditCopyCols, ", ") + `) VALUES `)
		for i := range recs {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for j := range 17 {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(17*i + j + 1))
			}
			b.WriteByte(')')
			args = append(args, row(&recs[i])...)
		}
		_, err = tx.Exec(ctx, b.String(), args...)
	}
	if err != nil {
		return 0, err
	}
	return first, tx.Commit(ctx)
}

// RecordByLeafHash finds a record by its leaf hash through the leaf_key index.
func (s *AuditStore) RecordByLeafHash(ctx context.Context, h audit.Hash) (audit.Record, error) {
	const op = "postgres.AuditRecordByLeafHash"
	var r audit.Record
	err := sqlstore.ScanRecord(s.db.pool.QueryRow(ctx, `SELECT `+sqlstore.AuditCols+` FROM audit_records WHERE leaf_key = $1 AND leaf_hash = $2`, audit.LeafKey(h), h[:]), &r)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, audit.ErrRecordNotFound.WithOp(op, nil)
	}
	return r, mapErr(op, err, nil)
}
