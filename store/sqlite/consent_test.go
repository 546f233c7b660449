package sqlite_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestConsent(t *testing.T) {
	t.Parallel()
	storetest.Consent(t, func(t testing.TB) (consent.Store, identity.Store) {
		db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Consent(), db.Identity()
	})
}
