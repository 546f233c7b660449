package sqlite_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestLease(t *testing.T) {
	t.Parallel()
	storetest.Lease(t, func(t testing.TB) (audit.Lease, audit.Store) {
		db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Lease(), db.Audit()
	})
}
