package sqlite_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestGuard(t *testing.T) {
	t.Parallel()
	storetest.Guard(t, func(t testing.TB) identity.Guard {
		db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Identity()
	})
}
