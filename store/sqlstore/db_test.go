package sqlstore

import (
	"fmt"
	"testing"
)

func TestRebind(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`SELECT a FROM t WHERE b = $1 AND c = $2`, `SELECT a FROM t WHERE b = ?1 AND c = ?2`},
		{`UPDATE t SET a = $2 WHERE b = $1 AND c = $1`, `UPDATE t SET a = ?2 WHERE b = ?1 AND c = ?1`},
		{`VALUES ($9,$10,$11)`, `VALUES (?9,?10,?11)`},
		{`SELECT '$1', "$2" FROM t WHERE a = $3`, `SELECT '$1', "$2" FROM t WHERE a = ?3`},
		{`SELECT 'it''s $1' WHERE a = $1`, `SELECT 'it''s $1' WHERE a = ?1`},
		{`SELECT $ FROM t`, `SELECT $ FROM t`},
	} {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q) = %q; want %q", c.in, got, c.want)
		}
	}
}

// TestQueryCacheBounded: queries past maxCached are still rewritten, but
// not kept.
func TestQueryCacheBounded(t *testing.T) {
	t.Parallel()
	db := New(nil, nil, SQLite)
	for i := range maxCached + 10 {
		if got, want := db.q(fmt.Sprintf("SELECT %d WHERE a = $1", i)), fmt.Sprintf("SELECT %d WHERE a = ?1", i); got != want {
			t.Fatalf("q = %q; want %q", got, want)
		}
	}
	if n := db.nqs.Load(); n != maxCached {
		t.Errorf("%d queries cached; want %d", n, maxCached)
	}
	if New(nil, nil, Postgres).q("a = $1") != "a = $1" {
		t.Error("PostgreSQL's queries are rewritten")
	}
}
