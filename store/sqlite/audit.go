package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/store/sqlstore"
)

// AuditStore implements audit.Store: the disclosure log's records, subtree
// hashes, signed heads and retention checkpoints. Appends and seals go
// through the audit file's single writer connection (auditfile.go: they
// queue behind other appends, never behind a ledger batch); reads use its read pool.
type AuditStore struct {
	// AuditReads are the parts whose SQL is the same on both engines, over
	// the audit file's writer and read pool.
	*sqlstore.AuditReads
	db *DB
	mu sync.Mutex
	// inserts caches the multi-row INSERT text per row count.
	inserts map[int]string
}

var _ audit.Store = (*AuditStore)(nil)

// Audit returns the audit store over db.
func (db *DB) Audit() *AuditStore {
	return &AuditStore{AuditReads: db.auditSQL.AuditReads(), db: db, inserts: map[int]string{}}
}

// auditChunk rows of 18 parameters stay below SQLITE_MAX_VARIABLE_NUMBER.
const auditChunk = 500

func (s *AuditStore) insertSQL(rows int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.inserts[rows]; ok {
		return q
	}
	one := "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0)"
	q := `INSERT INTO audit_records (seq, at, kind, partner, consent, customer_id, accounts, clusters, fields, purpose, actor, outcome, request_id, detail, leaf_hash, leaf_key, mac, pruned) VALUES ` +
		strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
	s.inserts[rows] = q
	return q
}

// Append gives recs the next leaf indexes from audit_state and inserts them,
// in one IMMEDIATE transaction: SQLite's single writer is the lock.
func (s *AuditStore) Append(ctx context.Context, recs []audit.Record, tag audit.Tagger) error {
	const op = "sqlite.AuditAppend"
	if len(recs) == 0 {
		return nil
	}
	// Every record's caller waits for this commit, so it must not wait in
	// the Go scheduler: with a cancellable context the driver runs each
	// statement on a goroutine of its own and waits for it (go-sqlite3's
	// exec), a hop that under load costs more than the statement. The
	// statements are short and bounded (busy_timeout), so nothing is lost
	// by not interrupting them.
	ctx = context.WithoutCancel(ctx)
	tx, err := s.db.audit.w.BeginTx(ctx, nil)
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer tx.Rollback()
	var first int64
	if err := tx.QueryRowContext(ctx, `UPDATE audit_state SET size = size + ? WHERE id = 1 RETURNING size - ?`, len(recs), len(recs)).Scan(&first); err != nil {
		return mapErr(op, err, nil)
	}
	audit.Number(recs, uint64(first), tag)
	args := make([]any, 0, 17*min(len(recs), auditChunk))
	for start := 0; start < len(recs); start += auditChunk {
		end := min(start+auditChunk, len(recs))
		args = args[:0]
		for i := start; i < end; i++ {
			r := &recs[i]
			args = append(args, int64(r.Seq), r.Time.UnixMicro(), string(r.Kind), r.Partner, r.Consent, int64(r.Customer),
				audit.JoinAccounts(r.Accounts), audit.JoinList(r.Clusters), audit.JoinList(r.Fields), r.Purpose, r.Actor,
				string(r.Outcome), r.RequestID, r.Detail, r.LeafHash[:], audit.LeafKey(r.LeafHash), r.MAC)
		}
		if _, err := tx.ExecContext(ctx, s.insertSQL(end-start), args...); err != nil {
			return mapErr(op, err, nil)
		}
	}
	if err := tx.Commit(); err != nil {
		return mapErr(op, err, nil)
	}
	return nil
}

// Seal stores nodes and head as sqlstore's Seal does, then indexes by leaf hash the records the head covers (indexLeaves). An error
// there leaves the head stored and the index where it was: the next seal
// goes on from there.
func (s *AuditStore) Seal(ctx context.Context, nodes []audit.Node, head audit.SignedHead) error {
	if err := s.AuditReads.Seal(ctx, nodes, head); err != nil {
		return err
	}
	return s.indexLeaves(ctx, head.Size)
}

// leafBatch bounds the records one transaction of indexLeaves indexes, and
// leafRun those one seal indexes: an index built from the start (after an
// upgrade, or with its file removed) is built over several seals, each of
// bounded length, while lookups scan the rest of the log.
const (
	leafBatch = 1 << 14
	leafRun   = 1 << 20
)

// indexLeaves indexes the records below size by leaf hash, from where the
// index ends, in the index's own file (LeavesPath): the audit file is only
// read, so appends go on beside it. An index that ends past size belongs
// to a newer log than this one (an audit file restored from a backup) and
// is built again from the start.
func (s *AuditStore) indexLeaves(ctx context.Context, size uint64) error {
	const op = "sqlite.AuditIndexLeaves"
	// A head names no more records than the log holds, except in tests
	// that store heads alone.
	logSize, err := s.Size(ctx)
	if err != nil {
		return err
	}
	size = min(size, logSize)
	for done := 0; done < leafRun; done += leafBatch {
		more, err := s.indexBatch(ctx, size)
		if err != nil {
			return mapErr(op, err, nil)
		}
		if !more {
			return nil
		}
	}
	return nil
}

// indexBatch indexes up to leafBatch records in one transaction of the
// index's writer and reports whether any remain below size, which the log
// holds.
func (s *AuditStore) indexBatch(ctx context.Context, size uint64) (bool, error) {
	tx, err := s.db.audit.lw.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var upto int64
	if err := tx.QueryRowContext(ctx, `SELECT upto FROM leaves_state WHERE id = 1`).Scan(&upto); err != nil {
		return false, err
	}
	if uint64(upto) > size {
		if _, err := tx.ExecContext(ctx, `DELETE FROM audit_leaves; UPDATE leaves_state SET upto = 0 WHERE id = 1`); err != nil {
			return false, err
		}
		upto = 0
	}
	if uint64(upto) >= size {
		return false, tx.Commit()
	}
	end := min(size, uint64(upto)+leafBatch)
	rows, err := s.db.audit.r.QueryContext(ctx, `SELECT leaf_key, seq FROM audit_records WHERE seq >= ? AND seq < ? ORDER BY seq`, upto, int64(end))
	if err != nil {
		return false, err
	}
	args := make([]any, 0, 2*(end-uint64(upto)))
	for rows.Next() {
		var key, seq int64
		if err := rows.Scan(&key, &seq); err != nil {
			rows.Close()
			return false, err
		}
		args = append(args, key, seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	if uint64(len(args)/2) != end-uint64(upto) {
		return false, fmt.Errorf("records %d..%d: %d found", upto, end-1, len(args)/2)
	}
	const chunk = 4096 // rows of 2 parameters per statement
	for start := 0; start < len(args); start += 2 * chunk {
		part := args[start:min(len(args), start+2*chunk)]
		q := `INSERT INTO audit_leaves (leaf_key, seq) VALUES ` + strings.TrimSuffix(strings.Repeat("(?,?),", len(part)/2), ",") + ` ON CONFLICT DO NOTHING`
		if _, err := tx.ExecContext(ctx, q, part...); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE leaves_state SET upto = ? WHERE id = 1`, int64(end)); err != nil {
		return false, err
	}
	return end < size, tx.Commit()
}

// RecordByLeafHash finds a record by its leaf hash: an indexed one through
// the index's file, one past where the index ends by a scan of the log's
// tail. The index's rows and its end are read in one statement (one
// snapshot of that file); records are only ever added, so a log read after
// them holds every record they name and at least the tail they leave out.
func (s *AuditStore) RecordByLeafHash(ctx context.Context, h audit.Hash) (audit.Record, error) {
	const op = "sqlite.AuditRecordByLeafHash"
	rows, err := s.db.audit.lr.QueryContext(ctx, `SELECT st.upto, l.seq FROM leaves_state st LEFT JOIN audit_leaves l ON l.leaf_key = ? WHERE st.id = 1`, audit.LeafKey(h))
	if err != nil {
		return audit.Record{}, mapErr(op, err, nil)
	}
	var upto int64
	var args []any
	for rows.Next() {
		var seq sql.NullInt64
		if err := rows.Scan(&upto, &seq); err != nil {
			rows.Close()
			return audit.Record{}, mapErr(op, err, nil)
		}
		if seq.Valid {
			args = append(args, seq.Int64)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return audit.Record{}, mapErr(op, err, nil)
	}
	q := `SELECT ` + sqlstore.AuditCols + ` FROM audit_records WHERE seq >= ? AND leaf_hash = ?`
	if len(args) > 0 {
		q = `SELECT ` + sqlstore.AuditCols + ` FROM audit_records WHERE seq IN (` + strings.TrimSuffix(strings.Repeat("?,", len(args)), ",") + `) AND leaf_hash = ?
		UNION ALL ` + q + ` LIMIT 1`
		args = append(args, h[:])
	}
	args = append(args, upto, h[:])
	var r audit.Record
	err = sqlstore.ScanRecord(s.db.audit.r.QueryRowContext(ctx, q, args...), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return r, audit.ErrRecordNotFound.WithOp(op, nil)
	}
	return r, mapErr(op, err, nil)
}
