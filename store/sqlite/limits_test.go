package sqlite_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestLimits(t *testing.T) {
	t.Parallel()
	storetest.Limits(t, func(t testing.TB) (limits.Store, limits.Store) {
		db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Limits(), db.Limits()
	})
}
