package postgres_test

import (
	"testing"

	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/store/storetest"
)

// TestLimits runs the suite with two pools on one schema, as two instances
// of a fleet hold it.
func TestLimits(t *testing.T) {
	t.Parallel()
	storetest.Limits(t, func(t testing.TB) (limits.Store, limits.Store) {
		url := testdb.PostgresURL(t)
		return openPG(t, url).Limits(), openPG(t, url).Limits()
	})
}
