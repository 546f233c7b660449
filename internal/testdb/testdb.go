// Package testdb gives tests a real database on each engine: a fresh SQLite
// file in t.TempDir() and a fresh PostgreSQL schema, dropped when the test
// ends. PostgreSQL comes from BANKBRIDGE_TEST_POSTGRES (default: the local
// server's database "test"); when it cannot be reached the test fails loudly,
// never skips, unless BANKBRIDGE_TEST_POSTGRES=skip says so on purpose.
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

// PostgresURL creates a fresh schema and returns a URL whose search_path
// selects it; the schema is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("BANKBRIDGE_TEST_POSTGRES")
	if base == "skip" {
		t.Skip("BANKBRIDGE_TEST_POSTGRES=skip: PostgreSQL tests skipped on purpose")
	}
	if base == "" {
		base = DefaultPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL is required for storage tests and is not reachable at %s: %v (start it, or set BANKBRIDGE_TEST_POSTGRES)", base, err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
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
