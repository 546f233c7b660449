package postgres_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestMessenger(t *testing.T) {
	t.Parallel()
	storetest.Messenger(t, func(t testing.TB) assistant.Store {
		db, err := postgres.Open(context.Background(), testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Messenger()
	})
}
