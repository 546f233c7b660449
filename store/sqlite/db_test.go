package sqlite_test

import (
	"context"
	"fmt"
	"github.com/bankbridge/bankbridge/store/storetest"
	"os"
	"testing"

	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlite"
)

// TestSettle: after a load, Settle leaves the WAL empty and the data in
// the database file, readable.
func TestSettle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := testdb.SQLitePath(t)
	db, err := sqlite.Open(ctx, path)
	storetest.NoErr(t, err)
	t.Cleanup(func() { db.Close() })
	var last ledger.Account
	for i := range 50 {
		if last, err = db.Ledger().CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "Load", Currency: "USD", Number: ledger.AccountNumber(fmt.Sprintf("90000%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() == 0 {
		t.Fatalf("before Settle the WAL should hold the load: %v, %v", fi, err)
	}
	storetest.NoErr(t, db.Settle(ctx))
	if fi, err := os.Stat(path + "-wal"); err != nil || fi.Size() != 0 {
		t.Fatalf("after Settle the WAL should be empty: %v, %v", fi, err)
	}
	if got, err := db.Ledger().Account(ctx, last.ID); err != nil || got.Number != last.Number {
		t.Fatalf("after Settle: %+v, %v", got, err)
	}
}
