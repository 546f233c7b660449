package storetest

import (
	"context"
	"regexp"
	"testing"
)

// DeploymentStore is what alerts/stream.Identity asks of a store; restated here
// because stores, and so their suite, must not import the NATS client.
type DeploymentStore interface {
	Deployment(ctx context.Context) (string, error)
}

// DeploymentOpener returns, for one test, a fresh empty database: each call
// of open opens another handle on that same database (another instance).
type DeploymentOpener func(t testing.TB) (open func() DeploymentStore)

// generatedID is the form of a generated deployment id: a valid cluster
// name (alerts/stream.ValidCluster) carrying 64 random bits.
var generatedID = regexp.MustCompile(`^bb[0-9a-f]{16}$`)

// Deployment runs the deployment identity conformance suite: the database
// generates its id when first migrated, every handle on it (every instance)
// reads the same one, another database has another, and the id is a valid
// cluster name (the default namespace on NATS).
func Deployment(t *testing.T, newDB DeploymentOpener) {
	t.Run("OneIDPerDatabaseSharedByEveryInstance", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		open := newDB(t)
		first, err := open().Deployment(ctx)
		noErr(t, err)
		if !generatedID.MatchString(first) {
			t.Errorf("generated id %q: want bb and 16 hex digits (64 random bits)", first)
		}
		if again, err := open().Deployment(ctx); err != nil || again != first {
			t.Errorf("another instance on the same database read %q, %v; want %q", again, err, first)
		}
		other, err := newDB(t)().Deployment(ctx)
		if err != nil || other == first {
			t.Errorf("another database has id %q, %v; the first has %q", other, err, first)
		}
	})
}
