package sqlite_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestIdentity(t *testing.T) {
	t.Parallel()
	storetest.Identity(t, func(t testing.TB) identity.Store {
		db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Identity()
	})
}

func BenchmarkImportCustomers(b *testing.B) {
	db, err := sqlite.Open(context.Background(), testdb.SQLitePath(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	storetest.BenchmarkImportCustomers(b, db.Identity(), 100_000)
}
