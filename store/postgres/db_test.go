package postgres_test

import (
	"context"
	"fmt"
	"github.com/bankbridge/bankbridge/store/storetest"
	"testing"

	"github.com/bankbridge/bankbridge/ledger"
)

// TestSettle: after a load, Settle has vacuumed and analysed every table
// of the schema (and only those) and checkpointed.
func TestSettle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, db := openLedger(t)
	for i := range 50 {
		if _, err := st.CreateAccount(ctx, ledger.Account{Kind: ledger.Internal, Name: "Load", Currency: "USD", Number: ledger.AccountNumber(fmt.Sprintf("90000%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	storetest.NoErr(t, db.Settle(ctx))
	var tables, settled int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE last_vacuum IS NOT NULL AND last_analyze IS NOT NULL)
		FROM pg_stat_user_tables WHERE schemaname = current_schema()`).Scan(&tables, &settled); err != nil {
		t.Fatal(err)
	}
	if tables == 0 || settled != tables {
		t.Fatalf("%d of the schema's %d tables vacuumed and analysed", settled, tables)
	}
}
