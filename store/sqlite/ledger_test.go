package sqlite_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func open(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), testdb.SQLitePath(t))
	storetest.NoErr(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

func openLedgerSuite(t testing.TB) (ledger.Store, func(string) error) {
	db := open(t)
	return db.Ledger(), db.Exec
}

func TestLedger(t *testing.T) { t.Parallel(); storetest.Ledger(t, openLedgerSuite) }

func TestLedgerBulk(t *testing.T) { t.Parallel(); storetest.LedgerBulk(t, openLedgerSuite) }
