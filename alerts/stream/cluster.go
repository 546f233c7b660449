package stream

import (
	"context"
	"fmt"
	"strings"
)

// Identity is where a deployment keeps its default cluster name: the
// database every instance shares, which generated one when it was first
// migrated. *sqlite.DB and *postgres.DB implement it (storetest.Deployment).
type Identity interface {
	Deployment(ctx context.Context) (string, error)
}

// Deployment names one deployment (one bank, or one of its environments)
// on a NATS server that others may share.
type Deployment struct {
	// Cluster namespaces everything the deployment puts on NATS: the
	// stream, its subject, the consumer and the message ids. Every
	// instance of the deployment must use the same one.
	Cluster string
	// Database is the id the deployment's database generated (Identity):
	// written in the stream's description, so that a second database
	// under the same cluster name is refused instead of mixed in.
	Database string
}

// MaxCluster is the longest cluster name: it is part of stream, consumer
// and subject names, which NATS wants short.
const MaxCluster = 32

// ValidCluster reports whether s can name a cluster: 1 to MaxCluster
// letters, digits, '-' or '_', starting with a letter or digit. NATS
// forbids '.', '*', '>', spaces and path separators in stream and consumer
// names, and in a subject '.' would split the token.
func ValidCluster(s string) error {
	bad := len(s) == 0 || len(s) > MaxCluster || s[0] == '-' || s[0] == '_'
	if i := strings.IndexFunc(s, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '-' && r != '_'
	}); i >= 0 {
		bad = true
	}
	if bad {
		return fmt.Errorf("cluster name %q must be 1 to %d letters, digits, '-' or '_', starting with a letter or digit (it becomes part of NATS stream, subject and consumer names)", s, MaxCluster)
	}
	return nil
}

// Resolve returns the deployment of an instance: cluster when the operator
// named one, else the id its database generated, so that every instance
// on one database agrees without configuration.
func Resolve(ctx context.Context, cluster string, id Identity) (Deployment, error) {
	db, err := id.Deployment(ctx)
	if err != nil {
		return Deployment{}, fmt.Errorf("stream: deployment id: %w", err)
	}
	d := Deployment{Cluster: cluster, Database: db}
	if d.Cluster == "" {
		d.Cluster = db
	}
	if err := ValidCluster(d.Cluster); err != nil {
		return Deployment{}, err
	}
	return d, nil
}
