package sqlite_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestMessenger(t *testing.T) {
	t.Parallel()
	storetest.Messenger(t, func(t testing.TB) assistant.Store {
		db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Messenger()
	})
}
