package postgres_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestDataAPI(t *testing.T) {
	t.Parallel()
	storetest.DataAPI(t, func(t testing.TB) records.Store {
		db, err := postgres.Open(context.Background(), testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.DataAPI()
	})
}
