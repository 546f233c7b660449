// Package teststore opens a capability store on a fresh database of either
// engine, for the tests of packages that need a real store but are not the
// store's own conformance suite (store/storetest is that). It is test
// support: the product never imports it.
package teststore

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/sqlstore"
)

// Chat opens the chat store (conversations, links, settings, the inbox) of
// engine ("sqlite" or "postgres", as testdb.Engines names them) on a fresh
// database that is closed when t ends.
func Chat(t *testing.T, engine string) *sqlstore.MessengerStore {
	t.Helper()
	ctx := context.Background()
	if engine == "postgres" {
		db, err := postgres.Open(ctx, testdb.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Messenger()
	}
	db, err := sqlite.Open(ctx, testdb.SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db.Messenger()
}
