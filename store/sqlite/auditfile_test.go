package sqlite

import (
	"context"
	"crypto/ed25519"
	"database/sql"
	"github.com/bankbridge/bankbridge/store/storetest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/audit"
)

// openAt opens the database at path, closed when the test ends.
func openAt(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	storetest.NoErr(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// removeFile removes the SQLite file at path with its WAL and shared memory.
func removeFile(t *testing.T, path string) {
	t.Helper()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

// oldMainFile opens the main file at path on one plain connection, with
// the log's tables created in it as an older version made them.
func oldMainFile(t *testing.T, path string) *sql.DB {
	t.Helper()
	body, err := migrations.ReadFile("auditmigrations/0001_audit.sql")
	storetest.NoErr(t, err)
	w, err := sql.Open(readerDriver, "file:"+path)
	storetest.NoErr(t, err)
	w.SetMaxOpenConns(1)
	if _, err := w.Exec(string(body)); err != nil {
		w.Close()
		t.Fatal(err)
	}
	return w
}

// oldLayout turns the files at path into what a version before the audit
// file made: the log's tables, with the records of the audit file, in the
// main file, and no audit file.
func oldLayout(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	w := oldMainFile(t, path)
	defer w.Close()
	for _, q := range []string{`ATTACH DATABASE '` + AuditPath(path) + `' AS aud`, `DELETE FROM audit_state`} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	for _, tb := range auditTables {
		// Without the columns later migrations added (audit_state's, the
		// records' mac): the old main file's own columns.
		var cols string
		storetest.NoErr(t, w.QueryRowContext(ctx, `SELECT group_concat(name, ', ') FROM pragma_table_info(?, 'main')`, tb).Scan(&cols))
		q := `INSERT INTO main.` + tb + ` (` + cols + `) SELECT ` + cols + ` FROM aud.` + tb
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.ExecContext(ctx, `DETACH DATABASE aud`); err != nil {
		t.Fatal(err)
	}
	removeFile(t, AuditPath(path))
}

// mainLogOfSize gives the main file at path the log's tables again, as an
// older version made them, with a log size of n.
func mainLogOfSize(t *testing.T, path string, n int) {
	t.Helper()
	w := oldMainFile(t, path)
	defer w.Close()
	if _, err := w.Exec(`UPDATE audit_state SET size = ?`, n); err != nil {
		t.Fatal(err)
	}
}

func appendN(t *testing.T, db *DB, n int) {
	t.Helper()
	recs := make([]audit.Record, n)
	for i := range recs {
		recs[i] = audit.Record{Kind: audit.ConsentGranted, Partner: "fintech", Customer: 7, Outcome: audit.OK, Time: time.Unix(1_700_000_000+int64(i), 0).UTC()}
	}
	storetest.NoErr(t, db.Audit().Append(context.Background(), recs, nil))
}

func logRecords(t *testing.T, db *DB) []audit.Record {
	t.Helper()
	p, err := db.Audit().Records(context.Background(), audit.Query{Limit: 100})
	storetest.NoErr(t, err)
	return p.Records
}

func mainHasAudit(t *testing.T, db *DB) bool {
	t.Helper()
	var n int
	storetest.NoErr(t, db.r.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name LIKE 'audit_%'`).Scan(&n))
	return n > 0
}

func TestMoveAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// before makes a log of n records and returns its records as the
	// audit file holds them, then closes it.
	before := func(t *testing.T, path string, n int) []audit.Record {
		db := openAt(t, path)
		appendN(t, db, n)
		want := logRecords(t, db)
		db.Close()
		return want
	}

	t.Run("MovesTheLogOfAnOlderMainFile", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/bankbridge.db"
		want := before(t, path, 5)
		oldLayout(t, path)
		db := openAt(t, path)
		if diff := cmp.Diff(want, logRecords(t, db)); diff != "" {
			t.Errorf("records after the move (-want +got):\n%s", diff)
		}
		if mainHasAudit(t, db) {
			t.Error("the main file still holds audit tables")
		}
		appendN(t, db, 1)
		if size, err := db.Audit().Size(ctx); err != nil || size != 6 {
			t.Errorf("size after one more append = %d, %v; want 6", size, err)
		}
		db.Close()
		if got := logRecords(t, openAt(t, path)); len(got) != 6 {
			t.Errorf("reopened: %d records, want 6", len(got))
		}
	})
	t.Run("FinishesAMoveCutOffAfterTheCopy", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/bankbridge.db"
		want := before(t, path, 3)
		oldLayout(t, path)
		// The copy committed, the drop did not: both files hold the log.
		db := openAt(t, path)
		db.Close()
		mainLogOfSize(t, path, 3)
		db = openAt(t, path)
		if diff := cmp.Diff(want, logRecords(t, db)); diff != "" {
			t.Errorf("records (-want +got):\n%s", diff)
		}
		if mainHasAudit(t, db) {
			t.Error("the main file still holds audit tables")
		}
	})
	t.Run("RefusesTwoDifferentLogs", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/bankbridge.db"
		before(t, path, 2)
		oldLayout(t, path)
		db := openAt(t, path) // moved: the audit file holds 2
		appendN(t, db, 2)     // now 4
		db.Close()
		mainLogOfSize(t, path, 2)
		_, err := Open(ctx, path)
		if err == nil || !strings.Contains(err.Error(), "holds a log of 2 records") {
			t.Fatalf("Open = %v, want a refusal naming both logs", err)
		}
	})
	t.Run("SmallPagesInANewAuditFile", func(t *testing.T) {
		t.Parallel()
		db := openAt(t, t.TempDir()+"/bankbridge.db")
		var size int
		if err := db.audit.r.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil || size != 1024 {
			t.Errorf("audit page_size = %d, %v; want 1024", size, err)
		}
		if err := db.r.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil || size != 4096 {
			t.Errorf("main page_size = %d, %v; want 4096", size, err)
		}
	})
}

// TestLeafIndex: a seal indexes by leaf hash every record its head covers,
// in the index's own file and over several transactions; lookups find
// records the index does not cover yet; a removed index file is rebuilt,
// and so is an index that runs past the log (an audit file restored from
// an older backup).
func TestLeafIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := t.TempDir() + "/bankbridge.db"
	db := openAt(t, path)
	n := leafBatch + 10
	appendN(t, db, n)
	var first, last audit.Record
	if err := db.Audit().Scan(ctx, 0, uint64(n), func(r *audit.Record) error {
		if r.Seq == 0 {
			first = *r
		}
		last = *r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	index := func(db *DB) (upto, rows int) {
		t.Helper()
		storetest.NoErr(t, db.audit.lr.QueryRow(`SELECT upto, (SELECT count(*) FROM audit_leaves) FROM leaves_state`).Scan(&upto, &rows))
		return upto, rows
	}
	_, key, _ := ed25519.GenerateKey(nil)
	seal := func(db *DB, size int) {
		t.Helper()
		storetest.NoErr(t, db.Audit().Seal(ctx, nil, audit.Sign(key, uint64(size), audit.EmptyRoot, time.Now())))
	}
	found := func(db *DB, step string) {
		t.Helper()
		for _, want := range []audit.Record{first, last} {
			if r, err := db.Audit().RecordByLeafHash(ctx, want.LeafHash); err != nil || r.Seq != want.Seq {
				t.Fatalf("%s: RecordByLeafHash(record %d) = %d, %v", step, want.Seq, r.Seq, err)
			}
		}
	}
	found(db, "before any seal")
	seal(db, n)
	if upto, rows := index(db); upto != n || rows != n {
		t.Fatalf("after a head of %d: index ends at %d, %d rows", n, upto, rows)
	}
	found(db, "after a seal")

	db.Close()
	removeFile(t, LeavesPath(AuditPath(path)))
	db = openAt(t, path)
	if upto, rows := index(db); upto != 0 || rows != 0 {
		t.Fatalf("a new index file: ends at %d, %d rows", upto, rows)
	}
	found(db, "without the index file")
	seal(db, n)
	if upto, rows := index(db); upto != n || rows != n {
		t.Fatalf("rebuilt: index ends at %d, %d rows", upto, rows)
	}

	if _, err := db.audit.lw.Exec(`UPDATE leaves_state SET upto = ?; INSERT INTO audit_leaves VALUES (1, ?)`, n+100, n+50); err != nil {
		t.Fatal(err)
	}
	seal(db, n)
	if upto, rows := index(db); upto != n || rows != n {
		t.Fatalf("an index past the log, after a seal: ends at %d, %d rows", upto, rows)
	}
	found(db, "after the index was built again")
}
