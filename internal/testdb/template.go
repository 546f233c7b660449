package testdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Migrating an empty schema costs 0.6-1 s, most of a storage test's time.
// So each migration set is applied once, to a template database named
// after a hash of the migration files' content (a changed migration makes
// a new template), and tests borrow copies of it. A copy outlives the run
// and is reused: a test holds a session advisory lock on it for as long as
// it runs (a crashed run's locks end with its sessions), and the next
// borrower resets it to the template's state, which costs ~0.1 s where
// creating a copy costs ~0.3 s and dropping one ~0.5 s (DROP DATABASE
// forces a checkpoint).
//
// Names: templates are bbt_tmpl_<key>, their copies bbt_<key>_<n>.
const (
	templatePrefix = "bbt_tmpl_"
	copyPrefix     = "bbt_"
	// staleTemplate is the age past which a template of another migration
	// set is dropped, with its copies; a run that still uses it rebuilds it.
	staleTemplate = 24 * time.Hour
	// templateLock serialises template builds across processes: go test
	// runs packages in parallel, each wanting the same template.
	templateLock = 0x62627470 // "bbtp"
	// builtMark starts a template's comment; the reset script follows it.
	builtMark = "bankbridge test template, built "
)

// templates remembers, per process, the templates known to be built.
var templates sync.Map // template name -> *templateState

type templateState struct {
	mu    sync.Mutex
	built bool
	reset string // the template's schemaPrint, a newline, then SQL that brings a used copy back to its state
}

// MigratedPostgresURL returns the URL of a PostgreSQL database that holds
// what migrations produce and nothing else, the test's own until it ends.
// open migrates the database at the URL it is given (it is the store's
// Open, whose result is closed at once); migrations are the files it
// applies, read only to name the template, so a changed file gives a new
// one. The database is reset by deleting rows (superuser only, as
// session_replication_role is), so a test must not leave other changes,
// such as altered tables, behind. Tests of migrating itself want
// PostgresURL's empty schema.
func MigratedPostgresURL[D io.Closer](t testing.TB, migrations fs.FS, open func(context.Context, string) (D, error)) string {
	t.Helper()
	base := baseURL(t)
	key, err := migrationsKey(migrations)
	if err != nil {
		t.Fatalf("testdb: migrations: %v", err)
	}
	migrate := func(ctx context.Context, u string) error {
		db, err := open(ctx, u)
		if err != nil {
			return err
		}
		return db.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// This session holds the copy's lock until the test ends.
	conn := connect(t, ctx, base)
	t.Cleanup(func() {
		// Unlocked before closing, as the server ends a closed session a
		// moment later: the next test would find the copy still held.
		conn.Exec(context.Background(), "SELECT pg_advisory_unlock_all()")
		conn.Close(context.Background())
	})
	name, err := borrowCopy(ctx, conn, base, key, migrate)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	return databaseURL(t, base, name)
}

// borrowCopy builds the template if needed, then locks the first copy no
// one holds, creating it or resetting it.
func borrowCopy(ctx context.Context, conn *pgx.Conn, base, key string, migrate func(context.Context, string) error) (string, error) {
	tmpl := templatePrefix + key
	v, _ := templates.LoadOrStore(tmpl, &templateState{})
	st := v.(*templateState)
	st.mu.Lock()
	if !st.built {
		reset, err := buildTemplate(ctx, conn, base, tmpl, migrate)
		if err != nil {
			st.mu.Unlock()
			return "", fmt.Errorf("template %s: %w", tmpl, err)
		}
		st.built, st.reset = true, reset
	}
	reset := st.reset
	st.mu.Unlock()
	for n := 0; ; n++ {
		name := fmt.Sprintf("%s%s_%d", copyPrefix, key, n)
		var mine bool
		if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", name).Scan(&mine); err != nil {
			return "", err
		}
		if !mine {
			continue
		}
		var exists bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
			return "", err
		}
		if !exists {
			if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl); err != nil {
				return "", fmt.Errorf("copy %s: %w", tmpl, err)
			}
			return name, nil
		}
		fresh, err := resetCopy(ctx, base, name, reset)
		if err != nil {
			return "", fmt.Errorf("reset %s: %w", name, err)
		}
		if !fresh {
			// A test changed the schema itself (the ledger suite adds a
			// trigger): rows are not enough, start again from the template.
			if err := dropOn(ctx, conn, name); err != nil {
				return "", err
			}
			if _, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl); err != nil {
				return "", fmt.Errorf("copy %s: %w", tmpl, err)
			}
		}
		return name, nil
	}
}

// resetCopy runs the reset script on the copy name unless its schema no
// longer matches the template's, and says whether it did.
func resetCopy(ctx context.Context, base, name, reset string) (bool, error) {
	u, err := url.Parse(base)
	if err != nil {
		return false, err
	}
	u.Path = "/" + name
	c, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return false, err
	}
	defer c.Close(context.Background())
	want, script, _ := strings.Cut(reset, "\n")
	var got string
	if err := c.QueryRow(ctx, schemaPrint).Scan(&got); err != nil {
		return false, err
	}
	if got != want {
		return false, nil
	}
	_, err = c.Exec(ctx, script)
	return err == nil, err
}

// schemaPrint hashes what a migration creates outside the rows: every
// relation, column, constraint, function, trigger, type and schema, by
// OID, which a copy keeps from its template.
const schemaPrint = `SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
	SELECT 'n' || oid || nspname FROM pg_namespace
	UNION ALL SELECT 'c' || c.oid || c.relname || c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
	UNION ALL SELECT 'a' || a.attrelid || a.attname || a.atttypid FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND a.attnum > 0 AND NOT a.attisdropped
	UNION ALL SELECT 'k' || oid || conname FROM pg_constraint
	UNION ALL SELECT 'p' || p.oid || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
	UNION ALL SELECT 't' || oid || tgname FROM pg_trigger
	UNION ALL SELECT 'y' || t.oid || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
) s(x)`

// buildTemplate makes tmpl unless a finished one exists, and returns its
// reset script. Finished means marked as a template that takes no
// connections, the last step, with the script in its comment; one without
// was left half-migrated by a crash and is rebuilt.
func buildTemplate(ctx context.Context, conn *pgx.Conn, base, tmpl string, migrate func(context.Context, string) error) (string, error) {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", err
	}
	// Unlocked by hand: the connection lives on to hold the test's copy.
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", templateLock)
	var open bool
	var comment string
	switch err := conn.QueryRow(ctx, "SELECT datallowconn, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = $1", tmpl).Scan(&open, &comment); {
	case err == nil && !open && strings.HasPrefix(comment, builtMark) && strings.Contains(comment, "\n"):
		_, reset, _ := strings.Cut(comment, "\n")
		return reset, nil
	case err == nil:
		if err := dropOn(ctx, conn, tmpl); err != nil {
			return "", err
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return "", err
	}
	if err := sweep(ctx, conn, tmpl, time.Now()); err != nil {
		return "", err
	}
	// Copies of a half-built template may hold anything.
	if err := dropCopies(ctx, conn, strings.TrimPrefix(tmpl, templatePrefix)); err != nil {
		return "", err
	}
	// template0 rather than the default template1, which a stray session
	// may hold open and so block the copy.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+tmpl+" TEMPLATE template0"); err != nil {
		return "", err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + tmpl
	if err := migrate(ctx, u.String()); err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	reset, err := resetScript(ctx, u.String())
	if err != nil {
		return "", fmt.Errorf("reset script: %w", err)
	}
	comment = fmt.Sprintf("%s%d\n%s", builtMark, time.Now().Unix(), reset)
	if _, err := conn.Exec(ctx, "COMMENT ON DATABASE "+tmpl+" IS '"+strings.ReplaceAll(comment, "'", "''")+"'"); err != nil {
		return "", err
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+tmpl+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
	return reset, err
}

// resetScript reads the freshly migrated database at u and returns its
// schemaPrint, a newline, and SQL that brings a copy of it back to this
// state: every table's rows deleted
// (with triggers, foreign keys included, off: the order does not matter)
// and those the migrations inserted put back, every sequence set back, and
// the statistics cleared, so that a test of VACUUM sees none from an
// earlier one. Deleting beats TRUNCATE, which makes new files for every
// table and index and costs more than a new copy.
func resetScript(ctx context.Context, u string) (string, error) {
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return "", err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT format('%I.%I', schemaname, tablename) FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		return "", err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	var b strings.Builder
	var print string
	if err := conn.QueryRow(ctx, schemaPrint).Scan(&print); err != nil {
		return "", err
	}
	b.WriteString(print + "\n")
	b.WriteString("BEGIN;\nSET LOCAL session_replication_role = replica;\n")
	for _, table := range tables {
		fmt.Fprintf(&b, "DELETE FROM %s;\n", table)
	}
	for _, table := range tables {
		var seed *string
		if err := conn.QueryRow(ctx, "SELECT json_agg(t)::text FROM "+table+" t").Scan(&seed); err != nil {
			return "", err
		}
		if seed != nil {
			fmt.Fprintf(&b, "INSERT INTO %s SELECT * FROM json_populate_recordset(NULL::%s, '%s');\n", table, table, strings.ReplaceAll(*seed, "'", "''"))
		}
	}
	rows, err = conn.Query(ctx, `SELECT format('SELECT setval(%L, %s, %s);', format('%I.%I', schemaname, sequencename),
		coalesce(last_value, start_value), CASE WHEN last_value IS NULL THEN 'false' ELSE 'true' END) FROM pg_sequences
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		return "", err
	}
	sequences, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	for _, s := range sequences {
		b.WriteString(s + "\n")
	}
	b.WriteString("SELECT pg_stat_reset();\nCOMMIT;")
	return b.String(), nil
}

// sweep drops the templates of other migration sets built more than
// staleTemplate ago, with their copies, and copies whose template is gone.
func sweep(ctx context.Context, conn *pgx.Conn, keep string, now time.Time) error {
	rows, err := conn.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname LIKE 'bbt\_%'`)
	if err != nil {
		return err
	}
	dbs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[database])
	if err != nil {
		return err
	}
	for _, name := range stale(dbs, keep, now) {
		drop := dropCopy
		if strings.HasPrefix(name, templatePrefix) {
			drop = dropOn
		}
		if err := drop(ctx, conn, name); err != nil {
			return err
		}
	}
	return nil
}

type database struct{ Name, Comment string }

// stale picks, from the test databases dbs, the ones sweep drops.
func stale(dbs []database, keep string, now time.Time) []string {
	var drop []string
	live := map[string]bool{strings.TrimPrefix(keep, templatePrefix): true}
	for _, d := range dbs {
		if !strings.HasPrefix(d.Name, templatePrefix) || d.Name == keep {
			continue
		}
		line, _, _ := strings.Cut(d.Comment, "\n")
		built, _ := strconv.ParseInt(strings.TrimPrefix(line, builtMark), 10, 64)
		if now.Sub(time.Unix(built, 0)) < staleTemplate {
			live[strings.TrimPrefix(d.Name, templatePrefix)] = true
			continue
		}
		drop = append(drop, d.Name)
	}
	for _, d := range dbs {
		if strings.HasPrefix(d.Name, templatePrefix) || !strings.HasPrefix(d.Name, copyPrefix) {
			continue
		}
		rest := strings.TrimPrefix(d.Name, copyPrefix)
		if i := strings.LastIndexByte(rest, '_'); i < 0 || !live[rest[:i]] {
			drop = append(drop, d.Name)
		}
	}
	return drop
}

// dropCopies drops the copies of the template of key that no one holds.
func dropCopies(ctx context.Context, conn *pgx.Conn, key string) error {
	rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, copyPrefix+key+"_")
	if err != nil {
		return err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := dropCopy(ctx, conn, name); err != nil {
			return err
		}
	}
	return nil
}

// dropCopy drops a copy unless a live test holds it.
func dropCopy(ctx context.Context, conn *pgx.Conn, name string) error {
	var mine bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtextextended($1, 0))", name).Scan(&mine); err != nil || !mine {
		return err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(hashtextextended($1, 0))", name)
	return dropOn(ctx, conn, name)
}

// dropOn drops a database, template or not, ending its sessions where the
// server can (WITH (FORCE) is PostgreSQL 13's).
func dropOn(ctx context.Context, conn *pgx.Conn, name string) error {
	if strings.HasPrefix(name, templatePrefix) {
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE false"); err != nil {
			return fmt.Errorf("drop %s: %w", name, err)
		}
	}
	force := ""
	major, _, _ := strings.Cut(conn.PgConn().ParameterStatus("server_version"), ".")
	if n, _ := strconv.Atoi(major); n >= 13 {
		force = " WITH (FORCE)"
	}
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+force); err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	return nil
}

// migrationsKey hashes every file's path and content.
func migrationsKey(migrations fs.FS) (string, error) {
	if migrations == nil {
		return "", errors.New("no migration files given")
	}
	h := sha256.New()
	// The layout of templates and copies, kept up to date by testdb.
	h.Write([]byte("testdb 3\x00"))
	n := 0
	err := fs.WalkDir(migrations, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(migrations, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(body))
		h.Write(body)
		n++
		return nil
	})
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", errors.New("no migration files given")
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
