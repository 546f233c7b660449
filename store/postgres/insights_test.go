package postgres_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestInsights(t *testing.T) {
	t.Parallel()
	storetest.Insights(t, func(t testing.TB) insights.Store {
		db, err := postgres.Open(context.Background(), testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Insights()
	})
}
