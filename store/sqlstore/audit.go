package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
)

// AuditReads implements the parts of audit.Store that are the same SQL on
// both engines: the size, hashes, heads, record pages and scans, sealing
// and retention. Appending and finding a record by leaf hash are each
// engine's own (store/sqlite/audit.go with its files and leaf index,
// store/postgres/audit.go). On SQLite db is the disclosure log's own file.
type AuditReads struct{ db *DB }

// AuditReads returns the audit reads of db.
func (db *DB) AuditReads() *AuditReads { return &AuditReads{db: db} }

// AuditCols are the columns ScanRecord reads.
const AuditCols = `seq, at, kind, partner, consent, customer_id, accounts, clusters, fields, purpose, actor, outcome, request_id, detail, leaf_hash, pruned, mac`

// Size reads the log's size.
func (s *AuditReads) Size(ctx context.Context) (uint64, error) {
	var n int64
	if err := s.db.R().QueryRow(ctx, `SELECT size FROM audit_state WHERE id = 1`).Scan(&n); err != nil {
		return 0, s.db.Err("sqlstore.AuditSize", err, nil)
	}
	return uint64(n), nil
}

func (s *AuditReads) scanHashes(rows Rows, op string) ([]audit.Hash, error) {
	defer rows.Close()
	var out []audit.Hash
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		var h audit.Hash
		copy(h[:], b)
		out = append(out, h)
	}
	return out, s.db.Err(op, rows.Err(), nil)
}

// LeafHashes reads the leaf hashes of [from, to).
func (s *AuditReads) LeafHashes(ctx context.Context, from, to uint64) ([]audit.Hash, error) {
	rows, err := s.db.R().Query(ctx, `SELECT leaf_hash FROM audit_records WHERE seq >= $1 AND seq < $2 ORDER BY seq`, int64(from), ClampInt(to))
	if err != nil {
		return nil, s.db.Err("sqlstore.AuditLeafHashes", err, nil)
	}
	return s.scanHashes(rows, "sqlstore.AuditLeafHashes")
}

// Nodes reads stored subtree hashes of one level.
func (s *AuditReads) Nodes(ctx context.Context, level uint8, from, to uint64) ([]audit.Hash, error) {
	rows, err := s.db.R().Query(ctx, `SELECT hash FROM audit_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx`, int(level), int64(from), ClampInt(to))
	if err != nil {
		return nil, s.db.Err("sqlstore.AuditNodes", err, nil)
	}
	return s.scanHashes(rows, "sqlstore.AuditNodes")
}

// ScanNodes streams one level's stored subtree hashes by index.
func (s *AuditReads) ScanNodes(ctx context.Context, level uint8, fn func(uint64, audit.Hash) error) error {
	const op = "sqlstore.AuditScanNodes"
	rows, err := s.db.R().Query(ctx, `SELECT idx, hash FROM audit_nodes WHERE level = $1 ORDER BY idx`, int(level))
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		var b []byte
		if err := rows.Scan(&i, &b); err != nil {
			return s.db.Err(op, err, nil)
		}
		var h audit.Hash
		copy(h[:], b)
		if err := fn(uint64(i), h); err != nil {
			return err
		}
	}
	return s.db.Err(op, rows.Err(), nil)
}

const headCols = `tree_size, root, signed_at, key_id, signature`

func scanHead(r interface{ Scan(...any) error }) (audit.SignedHead, error) {
	var h audit.SignedHead
	var size, at int64
	var root, key []byte
	if err := r.Scan(&size, &root, &at, &key, &h.Signature); err != nil {
		return h, err
	}
	h.Size, h.Time = uint64(size), time.UnixMilli(at).UTC()
	copy(h.Root[:], root)
	copy(h.KeyID[:], key)
	return h, nil
}

func (s *AuditReads) head(ctx context.Context, op, q string, args ...any) (audit.SignedHead, error) {
	h, err := scanHead(s.db.R().QueryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return h, audit.ErrNoHead.WithOp(op, nil)
	}
	return h, s.db.Err(op, err, nil)
}

// LatestHead returns the head of the largest size.
func (s *AuditReads) LatestHead(ctx context.Context) (audit.SignedHead, error) {
	return s.head(ctx, "sqlstore.AuditLatestHead", `SELECT `+headCols+` FROM audit_heads ORDER BY tree_size DESC LIMIT 1`)
}

// Head returns the head of exactly size.
func (s *AuditReads) Head(ctx context.Context, size uint64) (audit.SignedHead, error) {
	return s.head(ctx, "sqlstore.AuditHead", `SELECT `+headCols+` FROM audit_heads WHERE tree_size = $1`, int64(size))
}

// Heads streams every head by size.
func (s *AuditReads) Heads(ctx context.Context, fn func(audit.SignedHead) error) error {
	const op = "sqlstore.AuditHeads"
	rows, err := s.db.R().Query(ctx, `SELECT `+headCols+` FROM audit_heads ORDER BY tree_size`)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer rows.Close()
	for rows.Next() {
		h, err := scanHead(rows)
		if err != nil {
			return s.db.Err(op, err, nil)
		}
		if err := fn(h); err != nil {
			return err
		}
	}
	return s.db.Err(op, rows.Err(), nil)
}

// Seal stores nodes (keeping any already there) and head (replacing a head
// of the same size only when its root is the same and it is newer), in one
// transaction.
func (s *AuditReads) Seal(ctx context.Context, nodes []audit.Node, head audit.SignedHead) error {
	const op = "sqlstore.AuditSeal"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	rows := make([][]any, len(nodes))
	for i, n := range nodes {
		rows[i] = []any{int64(n.Level), int64(n.Index), n.Hash[:]}
	}
	if err := s.db.Upsert(ctx, tx, `INSERT INTO audit_nodes (level, idx, hash)`, `ON CONFLICT DO NOTHING`, rows); err != nil {
		return s.db.Err(op, err, nil)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_heads (tree_size, root, signed_at, key_id, signature) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (tree_size) DO UPDATE SET signed_at = excluded.signed_at, key_id = excluded.key_id, signature = excluded.signature
		WHERE audit_heads.root = excluded.root AND excluded.signed_at > audit_heads.signed_at`,
		int64(head.Size), head.Root[:], head.Time.UnixMilli(), head.KeyID[:], head.Signature); err != nil {
		return s.db.Err(op, err, nil)
	}
	return s.db.Err(op, tx.Commit(), nil)
}

// ScanRecord reads one row of auditCols into r, reusing nothing: the
// strings are the row's own.
func ScanRecord(rows interface{ Scan(...any) error }, r *audit.Record) error {
	var seq, at, customer int64
	var kind, accounts, clusters, fields, outcome string
	var leaf []byte
	var pruned bool
	if err := rows.Scan(&seq, &at, &kind, &r.Partner, &r.Consent, &customer, &accounts, &clusters, &fields,
		&r.Purpose, &r.Actor, &outcome, &r.RequestID, &r.Detail, &leaf, &pruned, &r.MAC); err != nil {
		return err
	}
	var err error
	r.Seq, r.Time, r.Kind, r.Customer, r.Outcome, r.Pruned = uint64(seq), fromMicros(at), audit.Kind(kind), bankbridge.CustomerID(customer), audit.Outcome(outcome), pruned
	if r.Accounts, err = audit.SplitAccounts(accounts); err != nil {
		return err
	}
	r.Clusters, r.Fields = audit.SplitList(clusters), audit.SplitList(fields)
	copy(r.LeafHash[:], leaf)
	return nil
}

// Records returns one page, newest first.
func (s *AuditReads) Records(ctx context.Context, q audit.Query) (audit.Page, error) {
	const op = "sqlstore.AuditRecords"
	q = audit.NormalizeQuery(q)
	where, args := []string{"NOT pruned"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	if q.Customer != 0 {
		add("customer_id =", int64(q.Customer))
	}
	if q.Partner != "" {
		add("partner =", q.Partner)
	}
	if q.Kind != "" {
		add("kind =", string(q.Kind))
	}
	if !q.From.IsZero() {
		add("at >=", q.From.UnixMicro())
	}
	if !q.To.IsZero() {
		add("at <", q.To.UnixMicro())
	}
	if q.Before != 0 {
		add("seq <", ClampInt(q.Before))
	}
	args = append(args, q.Limit+1)
	rows, err := s.db.R().Query(ctx, `SELECT `+AuditCols+` FROM audit_records WHERE `+strings.Join(where, " AND ")+
		` ORDER BY seq DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return audit.Page{}, s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var p audit.Page
	for rows.Next() {
		var r audit.Record
		if err := ScanRecord(rows, &r); err != nil {
			return audit.Page{}, s.db.Err(op, err, nil)
		}
		p.Records = append(p.Records, r)
	}
	if err := rows.Err(); err != nil {
		return audit.Page{}, s.db.Err(op, err, nil)
	}
	if len(p.Records) > q.Limit {
		p.Records = p.Records[:q.Limit]
		p.Next = p.Records[q.Limit-1].Seq
	}
	return p, nil
}

// Scan streams the records of [from, to) in order, in one snapshot however
// long the scan takes (Snapshot).
func (s *AuditReads) Scan(ctx context.Context, from, to uint64, fn func(*audit.Record) error) error {
	const op = "sqlstore.AuditScan"
	q, done, err := s.db.Snapshot(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer done()
	rows, err := q.Query(ctx, `SELECT `+AuditCols+` FROM audit_records WHERE seq >= $1 AND seq < $2 ORDER BY seq`, int64(from), ClampInt(to))
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var r audit.Record
	for rows.Next() {
		r = audit.Record{}
		if err := ScanRecord(rows, &r); err != nil {
			return s.db.Err(op, err, nil)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return s.db.Err(op, rows.Err(), nil)
}

// Prune clears the fields of the records below c.Upto and stores c.
func (s *AuditReads) Prune(ctx context.Context, c audit.Checkpoint) error {
	const op = "sqlstore.AuditPrune"
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.db.Err(op, err, nil)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, `UPDATE audit_records SET partner = '', consent = '', customer_id = 0, accounts = '', clusters = '',
		fields = '', purpose = '', actor = '', outcome = '', request_id = '', detail = '', pruned = true WHERE seq < $1 AND NOT pruned`, ClampInt(c.Upto)); err != nil {
		return s.db.Err(op, err, nil)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (upto, at, root, signed_at, key_id, signature, export_sha256) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		ClampInt(c.Upto), c.At.UnixMicro(), c.Head.Root[:], c.Head.Time.UnixMilli(), c.Head.KeyID[:], c.Head.Signature, c.Export[:]); err != nil {
		return s.db.Err(op, err, nil)
	}
	return s.db.Err(op, tx.Commit(), nil)
}

// Checkpoints lists the prunes, oldest first.
func (s *AuditReads) Checkpoints(ctx context.Context) ([]audit.Checkpoint, error) {
	const op = "sqlstore.AuditCheckpoints"
	rows, err := s.db.R().Query(ctx, `SELECT upto, at, root, signed_at, key_id, signature, export_sha256 FROM audit_checkpoints ORDER BY upto`)
	if err != nil {
		return nil, s.db.Err(op, err, nil)
	}
	defer rows.Close()
	var out []audit.Checkpoint
	for rows.Next() {
		var c audit.Checkpoint
		var upto, at, signed int64
		var root, key, export []byte
		if err := rows.Scan(&upto, &at, &root, &signed, &key, &c.Head.Signature, &export); err != nil {
			return nil, s.db.Err(op, err, nil)
		}
		c.Upto, c.At = uint64(upto), fromMicros(at)
		c.Head.Size, c.Head.Time = uint64(upto), time.UnixMilli(signed).UTC()
		copy(c.Head.Root[:], root)
		copy(c.Head.KeyID[:], key)
		copy(c.Export[:], export)
		out = append(out, c)
	}
	return out, s.db.Err(op, rows.Err(), nil)
}

// ClampInt converts a bound to int64, saturating: an "up to the end" bound
// of MaxUint64 stays the largest int64.
func ClampInt(v uint64) int64 {
	if v > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v)
}
