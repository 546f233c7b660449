package sqlite_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestDeployment(t *testing.T) {
	t.Parallel()
	storetest.Deployment(t, func(t testing.TB) func() storetest.DeploymentStore {
		path := testdb.SQLitePath(t)
		return func() storetest.DeploymentStore {
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
	})
}
