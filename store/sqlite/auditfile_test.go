package sqlite

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bankbridge/bankbridge/audit"
)

// oldLayout turns the files at path into what a version before the audit
// file made: the log's tables, with the records of the audit file, in the
// main file, and no audit file.
func oldLayout(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	body, err := migrations.ReadFile("auditmigrations/0001_audit.sql")
	if err != nil {
		t.Fatal(err)
	}
	w, err := sql.Open(readerDriver, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.SetMaxOpenConns(1)
	for _, q := range []string{string(body), `ATTACH DATABASE '` + AuditPath(path) + `' AS aud`, `DELETE FROM audit_state`} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%.40s: %v", q, err)
		}
	}
	for _, tb := range auditTables {
		q := `INSERT INTO main.` + tb + ` SELECT * FROM aud.` + tb
		if tb == "audit_state" { // without the columns later migrations added
			q = `INSERT INTO main.audit_state (id, size) SELECT id, size FROM aud.audit_state`
		}
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.ExecContext(ctx, `DETACH DATABASE aud`); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(AuditPath(path) + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

// mainLogOfSize gives the main file at path the log's tables again, as an
// older version made them, with a log size of n.
func mainLogOfSize(t *testing.T, path string, n int) {
	t.Helper()
	body, err := migrations.ReadFile("auditmigrations/0001_audit.sql")
	if err != nil {
		t.Fatal(err)
	}
	w, err := sql.Open(readerDriver, "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Exec(string(body)+`; UPDATE audit_state SET size = ?`, n); err != nil {
		t.Fatal(err)
	}
}

func appendN(t *testing.T, db *DB, n int) {
	t.Helper()
	recs := make([]audit.Record, n)
	for i := range recs {
		recs[i] = audit.Record{Kind: audit.ConsentGranted, Partner: "fintech", Customer: 7, Outcome: audit.OK, Time: time.Unix(1_700_000_000+int64(i), 0).UTC()}
	}
	if err := db.Audit().Append(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

func logRecords(t *testing.T, db *DB) []audit.Record {
	t.Helper()
	p, err := db.Audit().Records(context.Background(), audit.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return p.Records
}

func mainHasAudit(t *testing.T, db *DB) bool {
	t.Helper()
	var n int
	if err := db.r.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name LIKE 'audit_%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func TestMoveAudit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	open := func(t *testing.T, path string) *DB {
		t.Helper()
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	// before makes a log of n records and returns its records as the
	// audit file holds them, then closes it.
	before := func(t *testing.T, path string, n int) []audit.Record {
		db := open(t, path)
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
		db := open(t, path)
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
		if got := logRecords(t, open(t, path)); len(got) != 6 {
			t.Errorf("reopened: %d records, want 6", len(got))
		}
	})
	t.Run("FinishesAMoveCutOffAfterTheCopy", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/bankbridge.db"
		want := before(t, path, 3)
		oldLayout(t, path)
		// The copy committed, the drop did not: both files hold the log.
		db := open(t, path)
		db.Close()
		mainLogOfSize(t, path, 3)
		db = open(t, path)
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
		db := open(t, path) // moved: the audit file holds 2
		appendN(t, db, 2)   // now 4
		db.Close()
		mainLogOfSize(t, path, 2)
		_, err := Open(ctx, path)
		if err == nil || !strings.Contains(err.Error(), "holds a log of 2 records") {
			t.Fatalf("Open = %v, want a refusal naming both logs", err)
		}
	})
	t.Run("SmallPagesInANewAuditFile", func(t *testing.T) {
		t.Parallel()
		db := open(t, t.TempDir()+"/bankbridge.db")
		var size int
		if err := db.audit.r.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil || size != 1024 {
			t.Errorf("audit page_size = %d, %v; want 1024", size, err)
		}
		if err := db.r.QueryRow(`PRAGMA page_size`).Scan(&size); err != nil || size != 4096 {
			t.Errorf("main page_size = %d, %v; want 4096", size, err)
		}
	})
}
