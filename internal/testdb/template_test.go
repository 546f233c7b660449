package testdb

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
)

// fakeStore stands for a store's Open: it applies the files' SQL, counting
// how often it is called.
type fakeStore struct{ conn *pgx.Conn }

func (s fakeStore) Close() error { return s.conn.Close(context.Background()) }

func fakeOpen(files fstest.MapFS, calls *atomic.Int32) func(context.Context, string) (fakeStore, error) {
	return func(ctx context.Context, u string) (fakeStore, error) {
		calls.Add(1)
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return fakeStore{}, err
		}
		for _, f := range files {
			if _, err := conn.Exec(ctx, string(f.Data)); err != nil {
				conn.Close(ctx)
				return fakeStore{}, err
			}
		}
		return fakeStore{conn}, nil
	}
}

// uniqueFiles is a migration set no earlier run has seen, so that its
// template is built here; the template and its copies are dropped after.
func uniqueFiles(t *testing.T) fstest.MapFS {
	t.Helper()
	files := fstest.MapFS{"0001_a.sql": {Data: []byte(`CREATE TABLE a (x int);
		CREATE SEQUENCE q;
		CREATE TABLE s (k int PRIMARY KEY, v text);
		INSERT INTO s VALUES (1, 'it''s seeded'); -- ` + randomHex(8))}}
	t.Cleanup(func() { dropTemplate(t, files) })
	return files
}

func dropTemplate(t *testing.T, files fstest.MapFS) {
	key, err := migrationsKey(files)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn := connect(t, ctx, baseURL(t))
	defer conn.Close(ctx)
	if err := dropCopies(ctx, conn, key); err != nil {
		t.Error(err)
	}
	dropOn(ctx, conn, templatePrefix+key)
}

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	ctx := context.Background()
	conn := connect(t, ctx, baseURL(t))
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func exec(t *testing.T, u string, sql string, dst ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if len(dst) == 0 {
		_, err = conn.Exec(ctx, sql)
	} else {
		err = conn.QueryRow(ctx, sql).Scan(dst...)
	}
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestMigratedPostgresURL: a migration set is migrated once; a test holds
// its copy alone; later tests get the copies back as migrated (rows the
// migrations inserted and sequences included), even one whose schema a
// test changed; changed files make a new template.
func TestMigratedPostgresURL(t *testing.T) {
	t.Parallel()
	files := uniqueFiles(t)
	var calls atomic.Int32
	var used []string
	t.Run("dirty", func(t *testing.T) {
		for _, change := range []string{
			"INSERT INTO a VALUES (1); UPDATE s SET v = 'changed'; INSERT INTO s VALUES (2, 'new')",
			"CREATE TABLE extra (z int); INSERT INTO a VALUES (2)",
		} {
			u := MigratedPostgresURL(t, files, fakeOpen(files, &calls))
			var name string
			var next int
			exec(t, u, "SELECT current_database(), nextval('q')", &name, &next)
			exec(t, u, change)
			used = append(used, name)
		}
		if used[0] == used[1] {
			t.Errorf("two tests at once share %s", used[0])
		}
	})
	t.Run("reused", func(t *testing.T) {
		for i := range 2 {
			u := MigratedPostgresURL(t, files, fakeOpen(files, &calls))
			var name, seed string
			var rows, seeds, next int
			var extra bool
			exec(t, u, "SELECT current_database(), (SELECT count(*) FROM a), (SELECT count(*) FROM s), (SELECT min(v) FROM s), nextval('q'), to_regclass('extra') IS NOT NULL",
				&name, &rows, &seeds, &seed, &next, &extra)
			if name != used[i] {
				t.Errorf("got %s, want %s, free again", name, used[i])
			}
			if rows != 0 || seeds != 1 || seed != "it's seeded" || next != 1 || extra {
				t.Errorf("reused copy %s: %d rows in a, %d in s (%q), nextval %d, table extra %v; want 0, 1 (\"it's seeded\"), 1, false", name, rows, seeds, seed, next, extra)
			}
		}
	})
	if got := calls.Load(); got != 1 {
		t.Errorf("migrated %d times for three borrowings, want once", got)
	}

	changed := fstest.MapFS{"0001_a.sql": files["0001_a.sql"], "0002_b.sql": {Data: []byte("CREATE TABLE b (y int)")}}
	t.Run("changed", func(t *testing.T) {
		t.Cleanup(func() { dropTemplate(t, changed) })
		u := MigratedPostgresURL(t, changed, fakeOpen(changed, &calls))
		if got := calls.Load(); got != 2 {
			t.Errorf("changed files migrated %d times in all, want a second template", got)
		}
		exec(t, u, "SELECT count(*) FROM b", new(int))
	})
}

// TestHalfBuiltTemplateIsRebuilt: a template without the finishing mark,
// as a run that crashed while migrating leaves it, is built again.
func TestHalfBuiltTemplateIsRebuilt(t *testing.T) {
	t.Parallel()
	files := uniqueFiles(t)
	key, _ := migrationsKey(files)
	ctx := context.Background()
	conn := connect(t, ctx, baseURL(t))
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+templatePrefix+key); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	u := MigratedPostgresURL(t, files, fakeOpen(files, &calls))
	if calls.Load() != 1 {
		t.Fatalf("half-built template not migrated")
	}
	exec(t, u, "SELECT count(*) FROM a", new(int))
}

// TestStale: the sweep drops the templates of other migration sets built
// long ago, their copies and copies without a template, and only those.
func TestStale(t *testing.T) {
	now := time.Now()
	comment := func(age time.Duration) string { return fmt.Sprintf("%s%d\nSELECT 1;", builtMark, now.Add(-age).Unix()) }
	dbs := []database{
		{"bbt_tmpl_old", comment(48 * time.Hour)},
		{"bbt_tmpl_new", comment(time.Hour)},
		{"bbt_tmpl_keep", comment(48 * time.Hour)},
		{"bbt_tmpl_broken", "not ours"},
		{"bbt_old_0", ""}, {"bbt_old_12", ""}, {"bbt_new_0", ""}, {"bbt_keep_3", ""}, {"bbt_gone_0", ""}, {"bbt_broken_0", ""}, {"bbt_odd", ""},
	}
	got := strings.Join(stale(dbs, "bbt_tmpl_keep", now), " ")
	if want := "bbt_tmpl_old bbt_tmpl_broken bbt_old_0 bbt_old_12 bbt_gone_0 bbt_broken_0 bbt_odd"; got != want {
		t.Errorf("stale = %s\nwant    %s", got, want)
	}
}

// TestDropCopySparesHeld: a copy a live test holds is not dropped.
func TestDropCopySparesHeld(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := connect(t, ctx, baseURL(t))
	defer conn.Close(ctx)
	name := copyPrefix + "held" + randomHex(6) + "_0"
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	holder := connect(t, ctx, baseURL(t))
	defer holder.Close(ctx)
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock(hashtextextended($1, 0))", name); err != nil {
		t.Fatal(err)
	}
	if err := dropCopy(ctx, conn, name); err != nil {
		t.Fatal(err)
	}
	if !databaseExists(t, name) {
		t.Errorf("%s dropped while held", name)
	}
	// Unlocked rather than closed: the server ends a closed session a
	// moment later, and the lock with it.
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock(hashtextextended($1, 0))", name); err != nil {
		t.Fatal(err)
	}
	if err := dropCopy(ctx, conn, name); err != nil {
		t.Fatal(err)
	}
	if databaseExists(t, name) {
		t.Errorf("%s not dropped once free", name)
	}
}

// recorder is a testing.TB that records Skip and Fatal instead of ending
// the real test.
type recorder struct {
	testing.TB
	skipped, fatal string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func record(t *testing.T, f func(testing.TB)) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

// TestMissingServerFailsLoudly: without PostgreSQL the test fails, naming
// the address, unless BANKBRIDGE_TEST_POSTGRES=skip asks to skip.
func TestMissingServerFailsLoudly(t *testing.T) {
	files := fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE a (x int)")}}
	var calls atomic.Int32
	for name, get := range map[string]func(testing.TB){
		"empty":    func(tb testing.TB) { PostgresURL(tb) },
		"migrated": func(tb testing.TB) { MigratedPostgresURL(tb, files, fakeOpen(files, &calls)) },
	} {
		t.Setenv("BANKBRIDGE_TEST_POSTGRES", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
		if r := record(t, get); !strings.Contains(r.fatal, "not reachable at postgres://postgres@127.0.0.1:1/") {
			t.Errorf("%s: unreachable server: fatal %q, skip %q; want a failure naming it", name, r.fatal, r.skipped)
		}
		t.Setenv("BANKBRIDGE_TEST_POSTGRES", "skip")
		if r := record(t, get); r.skipped == "" || r.fatal != "" {
			t.Errorf("%s: BANKBRIDGE_TEST_POSTGRES=skip: fatal %q, skip %q; want a skip", name, r.fatal, r.skipped)
		}
	}
}
