package sqlite_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestAudit(t *testing.T) {
	t.Parallel()
	storetest.Audit(t, func(t testing.TB) (audit.Store, storetest.AuditExec) {
		db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Audit(), db.ExecArgs
	})
}

func TestAuditInstances(t *testing.T) {
	t.Parallel()
	storetest.AuditInstances(t, func(t testing.TB, n int) []audit.Store {
		db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		sts := make([]audit.Store, n)
		for i := range sts {
			sts[i] = db.Audit()
		}
		return sts
	})
}
