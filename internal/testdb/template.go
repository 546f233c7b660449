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
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Migrating an empty schema costs 0.6-1 s, most of a storage test's time;
// copying an already migrated template database costs ~60 ms. So each
// migration set is applied once, to a template database named after a hash
// of the migration files' content (a changed migration makes a new
// template), and every test gets its own copy, dropped when it ends.
//
// Names: templates are bbt_tmpl_<key>, copies bbt_<unix seconds>_<random>;
// the creation time in a copy's name lets a later run drop the copies a
// crashed run left behind.
const (
	templatePrefix = "bbt_tmpl_"
	copyPrefix     = "bbt_"
	// staleCopy is the age past which a copy belongs to no live run.
	staleCopy = time.Hour
	// staleTemplate is the age past which a template of another migration
	// set is dropped; a run that still uses it rebuilds it.
	staleTemplate = 24 * time.Hour
	// templateLock serialises template builds across processes: go test
	// runs packages in parallel, each wanting the same template.
	templateLock = 0x62627470 // "bbtp"
)

var copyName = regexp.MustCompile(`^bbt_([0-9]+)_[0-9a-f]+$`)

// templates remembers, per process, which templates are known to be built.
var templates sync.Map // template name -> *templateState

type templateState struct {
	mu    sync.Mutex
	built bool
}

// MigratedPostgresURL returns the URL of a new PostgreSQL database that
// already holds the schema that migrations produce, dropped when the test
// ends. open migrates the database at the URL it is given (it is the
// store's Open, whose result is closed at once); migrations are the files
// it applies, read only to name the template, so a changed file gives a
// new one. Tests of migrating itself want PostgresURL's empty schema.
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
	conn := connect(t, ctx, base)
	defer conn.Close(context.Background())
	name, err := copyTemplate(ctx, conn, base, templatePrefix+key, migrate)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := dropDatabase(ctx, base, name); err != nil {
			t.Logf("testdb: %v", err)
		}
	})
	return databaseURL(t, base, name)
}

// copyTemplate builds the template if needed and creates a copy of it.
func copyTemplate(ctx context.Context, conn *pgx.Conn, base, tmpl string, migrate func(context.Context, string) error) (string, error) {
	v, _ := templates.LoadOrStore(tmpl, &templateState{})
	st := v.(*templateState)
	for attempt := 0; ; attempt++ {
		st.mu.Lock()
		if !st.built {
			if err := buildTemplate(ctx, conn, base, tmpl, migrate); err != nil {
				st.mu.Unlock()
				return "", fmt.Errorf("template %s: %w", tmpl, err)
			}
			st.built = true
		}
		st.mu.Unlock()
		name := fmt.Sprintf("%s%d_%s", copyPrefix, time.Now().Unix(), randomHex(6))
		_, err := conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl)
		var pe *pgconn.PgError
		if attempt == 0 && errors.As(err, &pe) && pe.Code == "3D000" {
			// Another run, on other migrations, dropped it as stale.
			st.mu.Lock()
			st.built = false
			st.mu.Unlock()
			continue
		}
		if err != nil {
			return "", fmt.Errorf("copy %s: %w", tmpl, err)
		}
		return name, nil
	}
}

// buildTemplate makes tmpl unless a finished one exists. Finished means
// marked as a template that takes no connections, the last step; one
// without the mark was left half-migrated by a crash and is rebuilt.
func buildTemplate(ctx context.Context, conn *pgx.Conn, base, tmpl string, migrate func(context.Context, string) error) error {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return err
	}
	// Unlocked by hand: the connection lives on to make the test's copy.
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", templateLock)
	var open bool
	switch err := conn.QueryRow(ctx, "SELECT datallowconn FROM pg_database WHERE datname = $1", tmpl).Scan(&open); {
	case err == nil && !open:
		return nil
	case err == nil:
		if err := dropOn(ctx, conn, tmpl); err != nil {
			return err
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return err
	}
	if err := sweep(ctx, conn, tmpl, time.Now()); err != nil {
		return err
	}
	// template0 rather than the default template1, which a stray session
	// may hold open and so block the copy.
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+tmpl+" TEMPLATE template0"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("COMMENT ON DATABASE %s IS 'bankbridge test template, built %d'", tmpl, time.Now().Unix())); err != nil {
		return err
	}
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	u.Path = "/" + tmpl
	if err := migrate(ctx, u.String()); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	_, err = conn.Exec(ctx, "ALTER DATABASE "+tmpl+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false")
	return err
}

// sweep drops the copies older than staleCopy, which no live run uses,
// and the templates of other migration sets built more than staleTemplate
// ago.
func sweep(ctx context.Context, conn *pgx.Conn, keep string, now time.Time) error {
	rows, err := conn.Query(ctx, `SELECT datname, coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname LIKE 'bbt\_%'`)
	if err != nil {
		return err
	}
	type db struct{ Name, Comment string }
	dbs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[db])
	if err != nil {
		return err
	}
	for _, d := range dbs {
		var built int64
		switch {
		case d.Name == keep:
			continue
		case strings.HasPrefix(d.Name, templatePrefix):
			_, at, _ := strings.Cut(d.Comment, ", built ")
			built, _ = strconv.ParseInt(at, 10, 64)
			if now.Sub(time.Unix(built, 0)) < staleTemplate {
				continue
			}
		default:
			m := copyName.FindStringSubmatch(d.Name)
			if m == nil {
				continue
			}
			built, _ = strconv.ParseInt(m[1], 10, 64)
			if now.Sub(time.Unix(built, 0)) < staleCopy {
				continue
			}
		}
		if err := dropOn(ctx, conn, d.Name); err != nil {
			return err
		}
	}
	return nil
}

// dropDatabase drops a test's copy.
func dropDatabase(ctx context.Context, base, name string) error {
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("drop %s: %w", name, err)
	}
	defer conn.Close(context.Background())
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
