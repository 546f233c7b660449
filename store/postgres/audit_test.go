package postgres_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestAudit(t *testing.T) {
	t.Parallel()
	storetest.Audit(t, func(t testing.TB) (audit.Store, storetest.AuditExec) {
		db, err := postgres.Open(context.Background(), testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		exec := func(q string, args ...any) error {
			// The suite writes ? placeholders; PostgreSQL numbers them.
			var b strings.Builder
			n := 0
			for _, c := range q {
				if c == '?' {
					n++
					b.WriteString("$" + strconv.Itoa(n))
					continue
				}
				b.WriteRune(c)
			}
			_, err := db.Pool().Exec(context.Background(), b.String(), args...)
			return err
		}
		return db.Audit(), exec
	})
}

func TestAuditInstances(t *testing.T) {
	t.Parallel()
	storetest.AuditInstances(t, func(t testing.TB, n int) []audit.Store {
		db, err := postgres.Open(context.Background(), testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		sts := make([]audit.Store, n)
		for i := range sts {
			sts[i] = db.Audit()
		}
		return sts
	})
}
