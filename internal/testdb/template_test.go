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
// template is built here.
func uniqueFiles(t *testing.T) fstest.MapFS {
	t.Helper()
	files := fstest.MapFS{"0001_a.sql": {Data: []byte("CREATE TABLE a (x int); -- " + randomHex(8))}}
	key, err := migrationsKey(files)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		conn := connect(t, ctx, baseURL(t))
		defer conn.Close(ctx)
		if err := dropOn(ctx, conn, templatePrefix+key); err != nil {
			t.Error(err)
		}
	})
	return files
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

func count(t *testing.T, u, table string) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMigratedPostgresURL: a migration set is migrated once, each test gets
// its own copy of the result, which is gone after the test, and changed
// files make a new template.
func TestMigratedPostgresURL(t *testing.T) {
	t.Parallel()
	files := uniqueFiles(t)
	var calls atomic.Int32
	var names []string
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			u := MigratedPostgresURL(t, files, fakeOpen(files, &calls))
			if n := count(t, u, "a"); n != 0 {
				t.Errorf("copy %d starts with %d rows, want 0: copies share data", i, n)
			}
			ctx := context.Background()
			conn, err := pgx.Connect(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if _, err := conn.Exec(ctx, "INSERT INTO a VALUES (1)"); err != nil {
				t.Fatal(err)
			}
			var name string
			if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		})
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("migrated %d times for two tests, want once", got)
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("databases %v, want two different ones", names)
	}
	for _, name := range names {
		if databaseExists(t, name) {
			t.Errorf("database %s outlived its test", name)
		}
	}

	changed := fstest.MapFS{"0001_a.sql": files["0001_a.sql"], "0002_b.sql": {Data: []byte("CREATE TABLE b (y int)")}}
	t.Run("changed", func(t *testing.T) {
		t.Cleanup(func() {
			key, _ := migrationsKey(changed)
			ctx := context.Background()
			conn := connect(t, ctx, baseURL(t))
			defer conn.Close(ctx)
			dropOn(ctx, conn, templatePrefix+key)
		})
		u := MigratedPostgresURL(t, changed, fakeOpen(changed, &calls))
		if got := calls.Load(); got != 2 {
			t.Errorf("changed files migrated %d times in all, want a second template", got)
		}
		count(t, u, "b")
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
	count(t, u, "a")
}

// TestSweep drops the copies and the other templates that crashed runs
// left behind, and only those.
func TestSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	conn := connect(t, ctx, baseURL(t))
	defer conn.Close(ctx)
	now := time.Now()
	suffix := randomHex(6)
	oldCopy := fmt.Sprintf("%s%d_%s", copyPrefix, now.Add(-2*time.Hour).Unix(), suffix)
	newCopy := fmt.Sprintf("%s%d_%s", copyPrefix, now.Add(-time.Minute).Unix(), suffix)
	oldTmpl, newTmpl, keep := templatePrefix+"old"+suffix, templatePrefix+"new"+suffix, templatePrefix+"keep"+suffix
	built := map[string]time.Time{oldTmpl: now.Add(-48 * time.Hour), newTmpl: now.Add(-time.Hour), keep: now.Add(-48 * time.Hour)}
	for _, name := range []string{oldCopy, newCopy, oldTmpl, newTmpl, keep} {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			c := connect(t, ctx, baseURL(t))
			defer c.Close(ctx)
			dropOn(ctx, c, name)
		})
		if at, ok := built[name]; ok {
			if _, err := conn.Exec(ctx, fmt.Sprintf("COMMENT ON DATABASE %s IS 'bankbridge test template, built %d'", name, at.Unix())); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		t.Fatal(err)
	}
	err := sweep(ctx, conn, keep, now)
	conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", templateLock)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{oldCopy: false, newCopy: true, oldTmpl: false, newTmpl: true, keep: true} {
		if got := databaseExists(t, name); got != want {
			t.Errorf("%s exists = %v after the sweep, want %v", name, got, want)
		}
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
