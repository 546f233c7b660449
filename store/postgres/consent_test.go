package postgres_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestConsent(t *testing.T) {
	t.Parallel()
	storetest.Consent(t, func(t testing.TB) (consent.Store, identity.Store) {
		db, err := postgres.Open(context.Background(), testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Consent(), db.Identity()
	})
}
