package sqlite_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/keyring"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestKeys(t *testing.T) {
	t.Parallel()
	open := func(t testing.TB, path string) *sqlite.DB {
		db, err := sqlite.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	storetest.Keys(t, func(t testing.TB) (keyring.Store, consent.Store) {
		db := open(t, testdb.SQLitePath(t))
		return db.Keys(), db.Consent()
	}, func(t testing.TB) func() keyring.Store {
		path := testdb.SQLitePath(t)
		return func() keyring.Store { return open(t, path).Keys() }
	})
}
