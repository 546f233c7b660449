package postgres_test

import (
	"context"
	"testing"

	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/storetest"
)

func TestDeployment(t *testing.T) {
	t.Parallel()
	storetest.Deployment(t, func(t testing.TB) func() storetest.DeploymentStore {
		url := testdb.PostgresURL(t)
		return func() storetest.DeploymentStore {
			db, err := postgres.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
	})
}
