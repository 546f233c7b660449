package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The disclosure log lives in a SQLite file of its own beside the main one
// (data/bankbridge-audit.db beside data/bankbridge.db), for three reasons
// that all come down to the latency of a data API call, which waits for its
// record's commit:
//
//   - SQLite has one writer per file. In the main file an append would queue
//     behind a ledger batch (tens of milliseconds under load); here it
//     queues only behind other appends and the sealer.
//   - Its pages are 1 KiB (auditDriver). A commit writes every page it
//     dirtied whole to the WAL and fsyncs; an append of a couple of records
//     dirties a handful (the table's tail, one page of each index),
//     and on a virtual disk the fsync's tail grows with the bytes written.
//   - Its WAL is copied back by a goroutine on a connection of its own
//     (checkpointer), not inside the commit that crosses a threshold, which
//     stalled every waiting caller for 10-20 ms every two seconds.
//
// Nothing is written to both files in one transaction: appends and seals
// touch only the audit tables. Back up both files (docs/audit.md).
//
// The index of the records by leaf hash is a third file
// (data/bankbridge-audit-leaves.db, LeavesPath), filled by the sealer on
// its own writer (see leafmigrations/0001_leaves.sql). It holds nothing
// that is not in the audit file and is rebuilt when missing.
type auditFile struct {
	path   string
	w, r   *sql.DB
	ckpt   *sql.DB // one read-write connection for checkpoints only
	lw, lr *sql.DB // the leaf-hash index's writer and readers

	stop chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

// AuditPath is the disclosure log's file for the main database file at
// path: "-audit" before the extension.
func AuditPath(path string) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-audit" + ext
}

// LeavesPath is the file of the index by leaf hash for the audit file at
// path: "-leaves" before the extension.
func LeavesPath(auditPath string) string {
	ext := filepath.Ext(auditPath)
	return strings.TrimSuffix(auditPath, ext) + "-leaves" + ext
}

// checkpointEvery is how often the checkpointer copies the audit WAL back.
// At 2,000 calls a second that is 2-3 MiB of WAL each time: small
// enough that its writes do not crowd the appends' fsyncs.
const checkpointEvery = 250 * time.Millisecond

// openAudit opens the audit file's pools; Open migrates it, then starts
// the checkpointer.
func openAudit(path string) (*auditFile, error) {
	// A small page cache (see openPair): an append touches the tails and a
	// few random index pages, and each commit walks the whole cache.
	w, r, err := openPair(path, auditDriver, 1024)
	if err != nil {
		return nil, err
	}
	a := &auditFile{path: path, w: w, r: r, stop: make(chan struct{})}
	if a.ckpt, err = sql.Open(readerDriver, "file:"+path+"?_busy_timeout=10000"); err != nil {
		a.close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	a.ckpt.SetMaxOpenConns(1)
	// A larger cache: inserts land on random pages of the whole index.
	if a.lw, a.lr, err = openPair(LeavesPath(path), leavesDriver, 8192); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *auditFile) startCheckpointer() {
	a.wg.Add(1)
	go a.checkpointer()
}

// checkpointer runs a PASSIVE checkpoint every checkpointEvery: it copies
// what it can without waiting for the writer or for readers, so appends go
// on beside it; the next append after a complete one starts the WAL over.
func (a *auditFile) checkpointer() {
	defer a.wg.Done()
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
			// An error (busy, closed) is left to the next tick and, past
			// that, to the writer's own wal_autocheckpoint.
			_, _ = a.ckpt.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// close stops the checkpointer and closes the pools; it is safe to call twice.
func (a *auditFile) close() error {
	a.once.Do(func() { close(a.stop) })
	a.wg.Wait()
	err := errors.Join(a.r.Close(), a.w.Close())
	for _, db := range []*sql.DB{a.ckpt, a.lr, a.lw} {
		if db != nil {
			err = errors.Join(err, db.Close())
		}
	}
	return err
}

// auditTables are the disclosure log's tables, copied in this order.
var auditTables = []string{"audit_state", "audit_records", "audit_nodes", "audit_heads", "audit_checkpoints"}

// moveAudit moves the disclosure log out of a main file made before it had
// a file of its own (migration 0005's first version created it there). The
// copy commits in the audit file, then the main file's tables are dropped:
// two transactions, since a transaction over two WAL files is not atomic.
// If a crash falls between them, the next open finds the same log in both
// (same size) and only drops. A log of another size in each is refused.
func (db *DB) moveAudit(ctx context.Context) error {
	const op = "sqlite: move the audit log to its own file"
	var n int
	if err := db.w.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'audit_state'`).Scan(&n); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if n == 0 {
		return nil
	}
	var oldSize, newSize int64
	if err := db.w.QueryRowContext(ctx, `SELECT size FROM audit_state WHERE id = 1`).Scan(&oldSize); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := db.audit.w.QueryRowContext(ctx, `SELECT size FROM audit_state WHERE id = 1`).Scan(&newSize); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	switch {
	case newSize == 0 && oldSize > 0:
		if err := db.copyAudit(ctx); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	case newSize != oldSize:
		return fmt.Errorf("%s: %s holds a log of %d records and %s one of %d; move one away", op, db.Path, oldSize, db.audit.path, newSize)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	for _, t := range auditTables {
		if _, err := tx.ExecContext(ctx, `DROP TABLE `+t); err != nil {
			return fmt.Errorf("%s: drop %s: %w", op, t, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// copyAudit copies every audit table of the main file into the audit file,
// in one transaction of the audit file's writer, which attaches the main
// file for it.
func (db *DB) copyAudit(ctx context.Context) error {
	conn, err := db.audit.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `ATTACH DATABASE ? AS old`, "file:"+db.Path+"?mode=ro"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `DETACH DATABASE old`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range auditTables {
		if t == "audit_state" {
			if _, err := tx.ExecContext(ctx, `UPDATE main.audit_state SET size = (SELECT size FROM old.audit_state WHERE id = 1) WHERE id = 1`); err != nil {
				return err
			}
			continue
		}
		// By the old table's columns: the audit file may have columns the
		// old layout never had (audit_records.mac), left NULL.
		var cols string
		if err := tx.QueryRowContext(ctx, `SELECT group_concat(name, ', ') FROM pragma_table_info(?, 'old')`, t).Scan(&cols); err != nil {
			return fmt.Errorf("columns of %s: %w", t, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO main.`+t+` (`+cols+`) SELECT `+cols+` FROM old.`+t); err != nil {
			return fmt.Errorf("copy %s: %w", t, err)
		}
	}
	// The index by leaf hash follows at the next seal (indexLeaves).
	return tx.Commit()
}
