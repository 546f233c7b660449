package postgres_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/keyring"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	open := func(t testing.TB, url string) *postgres.DB {
		db, err := postgres.Open(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	storetest.Keys(t, func(t testing.TB) (keyring.Store, consent.Store) {
		db := open(t, testdb.PostgresURL(t))
		return db.Keys(), db.Consent()
	}, func(t testing.TB) func() keyring.Store {
		url := testdb.PostgresURL(t)
		return func() keyring.Store { return open(t, url).Keys() }
	})
}
