package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/jackc/pgx/v5"
)

// AuditStore implements audit.Store on PostgreSQL: the disclosure log's
// records, subtree hashes, signed heads and retention checkpoints.
type AuditStore struct {
	db *DB
	// mu guards next, the log size this instance last wrote or read, or
	// -1 when it does not know it.
	mu   sync.Mutex
	next int64
}

var _ audit.Store = (*AuditStore)(nil)

// Audit returns the audit store of db.
func (db *DB) Audit() *AuditStore { return &AuditStore{db: db, next: -1} }

const auditCols = `seq, at, kind, partner, consent, customer_id, accounts, clusters, fields, purpose, actor, outcome, request_id, detail, leaf_hash, pruned, mac`

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

// Size reads the log's size.
func (s *AuditStore) Size(ctx context.Context) (uint64, error) {
	var n int64
	if err := s.db.pool.QueryRow(ctx, `SELECT size FROM audit_state WHERE id = 1`).Scan(&n); err != nil {
		return 0, mapErr("postgres.AuditSize", err, nil)
	}
	return uint64(n), nil
}

func (s *AuditStore) hashes(ctx context.Context, op, q string, args ...any) ([]audit.Hash, error) {
	rows, err := s.db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	defer rows.Close()
	var out []audit.Hash
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, mapErr(op, err, nil)
		}
		var h audit.Hash
		copy(h[:], b)
		out = append(out, h)
	}
	return out, mapErr(op, rows.Err(), nil)
}

// LeafHashes reads the leaf hashes of [from, to).
func (s *AuditStore) LeafHashes(ctx context.Context, from, to uint64) ([]audit.Hash, error) {
	return s.hashes(ctx, "postgres.AuditLeafHashes", `SELECT leaf_hash FROM audit_records WHERE seq >= $1 AND seq < $2 ORDER BY seq`, int64(from), clampInt(to))
}

// Nodes reads stored subtree hashes of one level.
func (s *AuditStore) Nodes(ctx context.Context, level uint8, from, to uint64) ([]audit.Hash, error) {
	return s.hashes(ctx, "postgres.AuditNodes", `SELECT hash FROM audit_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx`, int16(level), int64(from), clampInt(to))
}

// ScanNodes streams one level's stored subtree hashes by index.
func (s *AuditStore) ScanNodes(ctx context.Context, level uint8, fn func(uint64, audit.Hash) error) error {
	const op = "postgres.AuditScanNodes"
	rows, err := s.db.pool.Query(ctx, `SELECT idx, hash FROM audit_nodes WHERE level = $1 ORDER BY idx`, int16(level))
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer rows.Close()
	for rows.Next() {
		var i int64
		var b []byte
		if err := rows.Scan(&i, &b); err != nil {
			return mapErr(op, err, nil)
		}
		var h audit.Hash
		copy(h[:], b)
		if err := fn(uint64(i), h); err != nil {
			return err
		}
	}
	return mapErr(op, rows.Err(), nil)
}

// Seal stores nodes (keeping any already there) and head (replacing a head
// of the same size only when its root is the same and it is newer).
func (s *AuditStore) Seal(ctx context.Context, nodes []audit.Node, head audit.SignedHead) error {
	const op = "postgres.AuditSeal"
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer tx.Rollback(ctx)
	if len(nodes) > 0 {
		levels, idx, hs := make([]int16, len(nodes)), make([]int64, len(nodes)), make([][]byte, len(nodes))
		for i, n := range nodes {
			levels[i], idx[i], hs[i] = int16(n.Level), int64(n.Index), n.Hash[:]
		}
		if _, err := tx.Exec(ctx, `INSERT INTO audit_nodes (level, idx, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[]) ON CONFLICT DO NOTHING`, levels, idx, hs); err != nil {
			return mapErr(op, err, nil)
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_heads (tree_size, root, signed_at, key_id, signature) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (tree_size) DO UPDATE SET signed_at = excluded.signed_at, key_id = excluded.key_id, signature = excluded.signature
		WHERE audit_heads.root = excluded.root AND excluded.signed_at > audit_heads.signed_at`,
		int64(head.Size), head.Root[:], head.Time.UnixMilli(), head.KeyID[:], head.Signature); err != nil {
		return mapErr(op, err, nil)
	}
	return mapErr(op, tx.Commit(ctx), nil)
}

const headCols = `tree_size, root, signed_at, key_id, signature`

func scanHead(r pgx.Row) (audit.SignedHead, error) {
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

func (s *AuditStore) head(ctx context.Context, op, q string, args ...any) (audit.SignedHead, error) {
	h, err := scanHead(s.db.pool.QueryRow(ctx, q, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return h, audit.ErrNoHead.WithOp(op, nil)
	}
	return h, mapErr(op, err, nil)
}

// LatestHead returns the head of the largest size.
func (s *AuditStore) LatestHead(ctx context.Context) (audit.SignedHead, error) {
	return s.head(ctx, "postgres.AuditLatestHead", `SELECT `+headCols+` FROM audit_heads ORDER BY tree_size DESC LIMIT 1`)
}

// Head returns the head of exactly size.
func (s *AuditStore) Head(ctx context.Context, size uint64) (audit.SignedHead, error) {
	return s.head(ctx, "postgres.AuditHead", `SELECT `+headCols+` FROM audit_heads WHERE tree_size = $1`, clampInt(size))
}

// Heads streams every head by size.
func (s *AuditStore) Heads(ctx context.Context, fn func(audit.SignedHead) error) error {
	const op = "postgres.AuditHeads"
	rows, err := s.db.pool.Query(ctx, `SELECT `+headCols+` FROM audit_heads ORDER BY tree_size`)
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer rows.Close()
	for rows.Next() {
		h, err := scanHead(rows)
		if err != nil {
			return mapErr(op, err, nil)
		}
		if err := fn(h); err != nil {
			return err
		}
	}
	return mapErr(op, rows.Err(), nil)
}

func scanRecord(row pgx.Row, r *audit.Record) error {
	var seq, at, customer int64
	var kind, accounts, clusters, fields, outcome string
	var leaf []byte
	if err := row.Scan(&seq, &at, &kind, &r.Partner, &r.Consent, &customer, &accounts, &clusters, &fields,
		&r.Purpose, &r.Actor, &outcome, &r.RequestID, &r.Detail, &leaf, &r.Pruned, &r.MAC); err != nil {
		return err
	}
	var err error
	r.Seq, r.Time, r.Kind, r.Customer, r.Outcome = uint64(seq), fromMicros(at), audit.Kind(kind), bankbridge.CustomerID(customer), audit.Outcome(outcome)
	if r.Accounts, err = audit.SplitAccounts(accounts); err != nil {
		return err
	}
	r.Clusters, r.Fields = audit.SplitList(clusters), audit.SplitList(fields)
	copy(r.LeafHash[:], leaf)
	return nil
}

// Records returns one page, newest first.
func (s *AuditStore) Records(ctx context.Context, q audit.Query) (audit.Page, error) {
	const op = "postgres.AuditRecords"
	q = audit.NormalizeQuery(q)
	where, args := []string{"NOT pruned"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.Replace(cond, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	if q.Customer != 0 {
		add("customer_id = ?", int64(q.Customer))
	}
	if q.Partner != "" {
		add("partner = ?", q.Partner)
	}
	if q.Kind != "" {
		add("kind = ?", string(q.Kind))
	}
	if !q.From.IsZero() {
		add("at >= ?", q.From.UnixMicro())
	}
	if !q.To.IsZero() {
		add("at < ?", q.To.UnixMicro())
	}
	if q.Before != 0 {
		add("seq < ?", clampInt(q.Before))
	}
	args = append(args, q.Limit+1)
	rows, err := s.db.pool.Query(ctx, `SELECT `+auditCols+` FROM audit_records WHERE `+strings.Join(where, " AND ")+
		` ORDER BY seq DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return audit.Page{}, mapErr(op, err, nil)
	}
	defer rows.Close()
	var p audit.Page
	for rows.Next() {
		var r audit.Record
		if err := scanRecord(rows, &r); err != nil {
			return audit.Page{}, mapErr(op, err, nil)
		}
		p.Records = append(p.Records, r)
	}
	if err := rows.Err(); err != nil {
		return audit.Page{}, mapErr(op, err, nil)
	}
	if len(p.Records) > q.Limit {
		p.Records = p.Records[:q.Limit]
		p.Next = p.Records[q.Limit-1].Seq
	}
	return p, nil
}

// RecordByLeafHash finds a record by its leaf hash through the leaf_key index.
func (s *AuditStore) RecordByLeafHash(ctx context.Context, h audit.Hash) (audit.Record, error) {
	const op = "postgres.AuditRecordByLeafHash"
	var r audit.Record
	err := scanRecord(s.db.pool.QueryRow(ctx, `SELECT `+auditCols+` FROM audit_records WHERE leaf_key = $1 AND leaf_hash = $2`, audit.LeafKey(h), h[:]), &r)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, audit.ErrRecordNotFound.WithOp(op, nil)
	}
	return r, mapErr(op, err, nil)
}

// Scan streams the records of [from, to) in order, in one REPEATABLE READ
// read-only transaction: one snapshot however long the scan takes.
func (s *AuditStore) Scan(ctx context.Context, from, to uint64, fn func(*audit.Record) error) error {
	const op = "postgres.AuditScan"
	tx, err := s.db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer tx.Rollback(ctx)
	rows, err := tx.Query(ctx, `SELECT `+auditCols+` FROM audit_records WHERE seq >= $1 AND seq < $2 ORDER BY seq`, int64(from), clampInt(to))
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer rows.Close()
	var r audit.Record
	for rows.Next() {
		r = audit.Record{}
		if err := scanRecord(rows, &r); err != nil {
			return mapErr(op, err, nil)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return mapErr(op, rows.Err(), nil)
}

// Prune clears the fields of the records below c.Upto and stores c.
func (s *AuditStore) Prune(ctx context.Context, c audit.Checkpoint) error {
	const op = "postgres.AuditPrune"
	tx, err := s.db.pool.Begin(ctx)
	if err != nil {
		return mapErr(op, err, nil)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `UPDATE audit_records SET partner = '', consent = '', customer_id = 0, accounts = '', clusters = '',
		fields = '', purpose = '', actor = '', outcome = '', request_id = '', detail = '', pruned = true WHERE seq < $1 AND NOT pruned`, clampInt(c.Upto)); err != nil {
		return mapErr(op, err, nil)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO audit_checkpoints (upto, at, root, signed_at, key_id, signature, export_sha256) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		clampInt(c.Upto), c.At.UnixMicro(), c.Head.Root[:], c.Head.Time.UnixMilli(), c.Head.KeyID[:], c.Head.Signature, c.Export[:]); err != nil {
		return mapErr(op, err, nil)
	}
	return mapErr(op, tx.Commit(ctx), nil)
}

// Checkpoints lists the prunes, oldest first.
func (s *AuditStore) Checkpoints(ctx context.Context) ([]audit.Checkpoint, error) {
	const op = "postgres.AuditCheckpoints"
	rows, err := s.db.pool.Query(ctx, `SELECT upto, at, root, signed_at, key_id, signature, export_sha256 FROM audit_checkpoints ORDER BY upto`)
	if err != nil {
		return nil, mapErr(op, err, nil)
	}
	defer rows.Close()
	var out []audit.Checkpoint
	for rows.Next() {
		var c audit.Checkpoint
		var upto, at, signed int64
		var root, key, export []byte
		if err := rows.Scan(&upto, &at, &root, &signed, &key, &c.Head.Signature, &export); err != nil {
			return nil, mapErr(op, err, nil)
		}
		c.Upto, c.At = uint64(upto), fromMicros(at)
		c.Head.Size, c.Head.Time = uint64(upto), time.UnixMilli(signed).UTC()
		copy(c.Head.Root[:], root)
		copy(c.Head.KeyID[:], key)
		copy(c.Export[:], export)
		out = append(out, c)
	}
	return out, mapErr(op, rows.Err(), nil)
}

// clampInt converts a bound to int64, saturating at the largest int64.
func clampInt(v uint64) int64 {
	if v > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(v)
}
