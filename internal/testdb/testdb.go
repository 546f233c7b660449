// Package testdb gives tests a real database on each engine: a fresh SQLite
// file in t.TempDir(), and on PostgreSQL either a fresh empty schema or a
// fresh database copied from a template that is migrated once per migration
// set; each is dropped when the test ends. PostgreSQL comes from
// BANKBRIDGE_TEST_POSTGRES (default: the local server's database "test");
// when it cannot be reached the test fails loudly, never skips, unless
// BANKBRIDGE_TEST_POSTGRES=skip says so on purpose.
package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgres is the server tests use when BANKBRIDGE_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Engines lists the engines every storage test runs on.
var Engines = []string{"sqlite", "postgres"}

// SQLitePath returns the path of a new SQLite file in a temporary folder.
func SQLitePath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "bankbridge.db")
}

// PostgresURL creates a fresh, empty schema and returns a URL whose
// search_path selects it; the schema is dropped when the test ends. Tests
// that need only a migrated database want MigratedPostgresURL, which is
// quicker.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := baseURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := connect(t, ctx, base)
	defer conn.Close(ctx)
	schema := "t_" + randomHex(6)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("BANKBRIDGE_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// baseURL returns the server's URL, or skips the test when
// BANKBRIDGE_TEST_POSTGRES=skip.
func baseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("BANKBRIDGE_TEST_POSTGRES")
	if base == "skip" {
		t.Skip("BANKBRIDGE_TEST_POSTGRES=skip: PostgreSQL tests skipped on purpose")
	}
	if base == "" {
		base = DefaultPostgres
	}
	if _, err := url.Parse(base); err != nil {
		t.Fatalf("BANKBRIDGE_TEST_POSTGRES: %v", err)
	}
	return base
}

// connect connects to base or fails the test loudly: a missing server is
// a broken setup, not a reason to skip.
func connect(t testing.TB, ctx context.Context, base string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL is required for storage tests and is not reachable at %s: %v (start it, or set BANKBRIDGE_TEST_POSTGRES)", base, err)
	}
	return conn
}

// databaseURL returns base with its database replaced by name.
func databaseURL(t testing.TB, base, name string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("BANKBRIDGE_TEST_POSTGRES: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
