package postgres_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestIdentity(t *testing.T) {
	t.Parallel()
	storetest.Identity(t, func(t testing.TB) identity.Store {
		db, err := postgres.Open(context.Background(), testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Identity()
	})
}

func BenchmarkImportCustomers(b *testing.B) {
	db, err := postgres.Open(context.Background(), testdb.MigratedPostgresURL(b, postgres.Migrations(), postgres.Open))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	storetest.BenchmarkImportCustomers(b, db.Identity(), 100_000)
}
