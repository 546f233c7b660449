package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/bankbridge/bankbridge/alerts"
	"github.com/bankbridge/bankbridge/assistant"
	"github.com/bankbridge/bankbridge/audit"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/dataapi/records"
	"github.com/bankbridge/bankbridge/identity"
	"github.com/bankbridge/bankbridge/insights"
	"github.com/bankbridge/bankbridge/internal/testdb"
	"github.com/bankbridge/bankbridge/keyring"
	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/limits"
	"github.com/bankbridge/bankbridge/rails"
	"github.com/bankbridge/bankbridge/scheduled"
	"github.com/bankbridge/bankbridge/store/postgres"
	"github.com/bankbridge/bankbridge/store/sqlite"
	"github.com/bankbridge/bankbridge/store/sqlstore"
	"github.com/bankbridge/bankbridge/store/storetest"
	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "github.com/mattn/go-sqlite3"    // database/sql driver "sqlite3"
)

// fixtures are migration files as each engine had them before they were
// shared, copied as they were: v0/sqlite and v0/postgres those of the
// branch point, v1/sqlite and v1/postgres the ones main added meanwhile
// (0010-0015), which databases migrated by main's code have applied too.
var fixtures = os.DirFS("testdata")

// v0 and v1 are the fixture directories a database made before the
// sharing applied: v0 one made before main added 0010-0014, v1 one made
// by main's code since.
func (e engine) v0() []string { return []string{"v0/" + e.name} }
func (e engine) v1() []string { return []string{"v0/" + e.name, "v1/" + e.name} }

// stores are one database's capability stores, as the engine's DB hands them out.
type stores struct {
	consent   consent.Store
	identity  identity.Store
	dataapi   records.Store
	messenger assistant.Store
	alerts    alerts.Store
	insights  insights.Store
	audit     func() audit.Store
	keys      keyring.Store
	lease     audit.Lease
	guard     identity.Guard
	limits    limits.Store
	rails     rails.Store
	ledger    ledger.Store
	// db is the engine's DB itself, as storetest.DeploymentStore.
	db storetest.DeploymentStore
	// execAudit runs SQL written with ? placeholders where the log is.
	execAudit storetest.AuditExec
	versions  func(context.Context) ([]string, error)
	chat      storetest.ChatStore
	mirror    rails.MirrorStore
	scheduled scheduled.Store
}

// engine makes bare databases migrated by the shared runner from any set
// of files, opens them with the engine's package, and describes their schema.
type engine struct {
	name   string
	dial   sqlstore.Dialect
	driver string
	// bare returns the location of a new empty database, as the engine's
	// Open and sql.Open(driver) take it; fresh one as tests get it (testdb).
	bare, fresh func(t testing.TB) string
	open        func(t testing.TB, where string) stores
	schema      func(t testing.TB, db *sql.DB) []string
}

var engines = []engine{
	{
		name: "sqlite", dial: sqlstore.SQLite, driver: "sqlite3",
		bare:  func(t testing.TB) string { return filepath.Join(t.TempDir(), "bare.db") },
		fresh: testdb.SQLitePath,
		open: func(t testing.TB, path string) stores {
			db, err := sqlite.Open(context.Background(), path)
			storetest.NoErr(t, err)
			t.Cleanup(func() { db.Close() })
			return stores{db.Consent(), db.Identity(), db.DataAPI(), db.Messenger(), db.Alerts(), db.Insights(),
				func() audit.Store { return db.Audit() }, db.Keys(), db.Lease(), db.Identity(), db.Limits(), db.Rails(), db.Ledger(), db,
				db.ExecAudit, db.Versions, db.Messenger(), db.Mirror(), db.Scheduled()}
		},
		schema: sqliteSchema,
	},
	{
		name: "postgres", dial: sqlstore.Postgres, driver: "pgx",
		bare:  bareSchema,
		fresh: func(t testing.TB) string { return testdb.MigratedPostgresURL(t, postgres.Migrations(), postgres.Open) },
		open: func(t testing.TB, u string) stores {
			db, err := postgres.Open(context.Background(), u)
			storetest.NoErr(t, err)
			t.Cleanup(func() { db.Close() })
			exec := func(q string, args ...any) error {
				// The suite writes ? placeholders; PostgreSQL numbers them.
				n := 0
				q = regexp.MustCompile(`\?`).ReplaceAllStringFunc(q, func(string) string { n++; return "$" + strconv.Itoa(n) })
				_, err := db.Pool().Exec(context.Background(), q, args...)
				return err
			}
			return stores{db.Consent(), db.Identity(), db.DataAPI(), db.Messenger(), db.Alerts(), db.Insights(),
				func() audit.Store { return db.Audit() }, db.Keys(), db.Lease(), db.Identity(), db.Limits(), db.Rails(), db.Ledger(), db,
				exec, db.Versions, db.Messenger(), db.Mirror(), db.Scheduled()}
		},
		schema: postgresSchema,
	},
}

// bareSchema creates an empty PostgreSQL schema of its own (not through
// testdb, which may hand out schemas already migrated) and returns its URL.
func bareSchema(t testing.TB) string {
	base := os.Getenv("BANKBRIDGE_TEST_POSTGRES")
	if base == "skip" {
		t.Skip("BANKBRIDGE_TEST_POSTGRES=skip")
	}
	if base == "" {
		base = testdb.DefaultPostgres
	}
	admin, err := sql.Open("pgx", base)
	storetest.NoErr(t, err)
	defer admin.Close()
	var b [6]byte
	rand.Read(b[:])
	schema := "up_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("PostgreSQL is required: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err == nil {
			admin.Exec("DROP SCHEMA " + schema + " CASCADE")
			admin.Close()
		}
	})
	u, err := url.Parse(base)
	storetest.NoErr(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// migrated makes a bare database and applies dirs of fsys to it, in
// order, with the shared runner; it returns the database's location and a
// handle on it.
func (e engine) migrated(t testing.TB, fsys fs.FS, dirs ...string) (string, *sql.DB) {
	t.Helper()
	where := e.bare(t)
	db, err := sql.Open(e.driver, where)
	storetest.NoErr(t, err)
	t.Cleanup(func() { db.Close() })
	if e.name == "sqlite" {
		db.SetMaxOpenConns(1) // the runner's transactions on one file
	}
	for _, dir := range dirs {
		storetest.NoErr(t, sqlstore.New(db, db, e.dial).Migrate(context.Background(), fsys, dir))
	}
	return where, db
}

// migrateOld applies dirs of fixtures, in order, with the shared runner
// to the database at where, as the engine's old code did.
func migrateOld(ctx context.Context, e engine, where string, dirs []string) error {
	db, err := sql.Open(e.driver, where)
	if err != nil {
		return err
	}
	defer db.Close()
	if e.name == "sqlite" {
		db.SetMaxOpenConns(1) // the runner's transactions on one file
	}
	for _, dir := range dirs {
		if err := sqlstore.New(db, db, e.dial).Migrate(ctx, fixtures, dir); err != nil {
			return err
		}
	}
	return db.Close()
}

// upgraded returns the location of a database, the test's own, that the
// files of dirs (fixtures) made and today's code then opened: a copy of one
// built once per run, as building one costs about a second and the suites
// want one per subtest.
func (e engine) upgraded(t testing.TB, dirs []string) string {
	t.Helper()
	if e.name == "sqlite" {
		return e.upgradedSQLite(t, dirs)
	}
	return e.upgradedPostgres(t, dirs)
}

// upgradeFiles are the files an upgraded PostgreSQL database is made of,
// the old dirs and today's, under names of their own, so that testdb keys
// its template by both.
func upgradeFiles(dirs []string) (fs.FS, error) {
	files := fstest.MapFS{}
	add := func(fsys fs.FS, root, prefix string) error {
		return fs.WalkDir(fsys, root, func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			body, err := fs.ReadFile(fsys, name)
			files[prefix+name] = &fstest.MapFile{Data: body}
			return err
		})
	}
	for _, dir := range dirs {
		if err := add(fixtures, dir, "old/"); err != nil {
			return nil, err
		}
	}
	return files, add(postgres.Migrations(), ".", "new/")
}

// upgradedPostgres borrows a copy of a template database that dirs made
// and postgres.Open then migrated. testdb resets a copy between tests to
// the template's rows, those the old files inserted included (the
// deployment id of v1's 0011, the applied versions).
func (e engine) upgradedPostgres(t testing.TB, dirs []string) string {
	t.Helper()
	files, err := upgradeFiles(dirs)
	storetest.NoErr(t, err)
	return testdb.MigratedPostgresURL(t, files, func(ctx context.Context, u string) (*postgres.DB, error) {
		if err := migrateOld(ctx, e, u, dirs); err != nil {
			return nil, fmt.Errorf("old migrations %v: %w", dirs, err)
		}
		return postgres.Open(ctx, u)
	})
}

// sqliteBuild is a SQLite database that dirs made and sqlite.Open then
// upgraded, built once per run in a directory of its own; its files (the
// main one, the audit file, and whatever else the engine keeps beside it)
// are copied for each test.
type sqliteBuild struct {
	once sync.Once
	dir  string
	err  error
}

var sqliteBuilds sync.Map // strings.Join(dirs, ",") -> *sqliteBuild

// sqliteBuildRoot holds every sqliteBuild's directory, for the run.
var sqliteBuildRoot string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sqlstore-upgrade-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sqliteBuildRoot = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// upgradedSQLite copies, for the test, the files of the database that
// dirs made and sqlite.Open upgraded, building it the first time. The
// build is closed, so its files (the WAL too, if one is left) are not
// being written while copied.
func (e engine) upgradedSQLite(t testing.TB, dirs []string) string {
	t.Helper()
	v, _ := sqliteBuilds.LoadOrStore(strings.Join(dirs, ","), &sqliteBuild{})
	b := v.(*sqliteBuild)
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp(sqliteBuildRoot, "v"); b.err != nil {
			return
		}
		ctx := context.Background()
		where := filepath.Join(b.dir, "bare.db")
		if b.err = migrateOld(ctx, e, where, dirs); b.err != nil {
			return
		}
		db, err := sqlite.Open(ctx, where)
		if err != nil {
			b.err = err
			return
		}
		b.err = db.Close()
	})
	if b.err != nil {
		t.Fatalf("upgraded SQLite database of %v: %v", dirs, b.err)
	}
	dst := t.TempDir()
	entries, err := os.ReadDir(b.dir)
	storetest.NoErr(t, err)
	for _, f := range entries {
		if !f.Type().IsRegular() {
			t.Fatalf("%s in the upgraded database's directory: only files are copied", f.Name())
		}
		body, err := os.ReadFile(filepath.Join(b.dir, f.Name()))
		storetest.NoErr(t, err)
		storetest.NoErr(t, os.WriteFile(filepath.Join(dst, f.Name()), body, 0o600))
	}
	return filepath.Join(dst, "bare.db")
}

var (
	comment = regexp.MustCompile(`--[^\n]*`)
	space   = regexp.MustCompile(`\s+`)
	punct   = regexp.MustCompile(`\s*([(),;])\s*`)
)

// sqliteSchema is every table's and index's CREATE statement, without
// comments, spacing or case, which do not change what SQLite builds.
func sqliteSchema(t testing.TB, db *sql.DB) []string {
	rows, err := db.Query(`SELECT type, name, coalesce(sql, '') FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name`)
	storetest.NoErr(t, err)
	out, err := sqlstore.Collect(rows, func(s sqlstore.Scanner) (string, error) {
		var typ, name, def string
		err := s.Scan(&typ, &name, &def)
		def = punct.ReplaceAllString(space.ReplaceAllString(comment.ReplaceAllString(strings.ToLower(def), ""), " "), "$1")
		return typ + " " + name + ": " + strings.TrimSpace(def), err
	})
	storetest.NoErr(t, err)
	return out
}

// postgresSchema is the schema as the catalog holds it: columns with their
// types, nullability and defaults, constraints, indexes, sequences and
// storage options.
func postgresSchema(t testing.TB, db *sql.DB) []string {
	var out []string
	for _, q := range []string{
		`SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') || ' ' || is_identity
		   FROM information_schema.columns WHERE table_schema = current_schema()`,
		`SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
		   FROM pg_constraint WHERE connamespace = current_schema()::regnamespace`,
		`SELECT replace(indexdef, current_schema() || '.', '') FROM pg_indexes WHERE schemaname = current_schema()`,
		`SELECT sequence_name || ' ' || data_type FROM information_schema.sequences WHERE sequence_schema = current_schema()`,
		`SELECT relname || ' ' || coalesce(array_to_string(reloptions, ','), '') FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'`,
	} {
		rows, err := db.Query(q)
		storetest.NoErr(t, err)
		got, err := sqlstore.Collect(rows, func(s sqlstore.Scanner) (string, error) {
			var v string
			return v, s.Scan(&v)
		})
		storetest.NoErr(t, err)
		out = append(out, got...)
	}
	slices.Sort(out)
	return out
}

// TestMigrationsBuildTodaysSchema: the shared migration files build, on
// each engine, exactly the schema that engine's own files built before
// (main's, 0001-0015), with the shared files that came after them applied
// on top by the runner (0016 on: it skips the versions the old files
// recorded), as an existing database gets them.
func TestMigrationsBuildTodaysSchema(t *testing.T) {
	t.Parallel()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			_, old := e.migrated(t, fixtures, e.v1()...)
			storetest.NoErr(t, sqlstore.New(old, old, e.dial).Migrate(context.Background(), sqlstore.Migrations, "migrations"))
			_, shared := e.migrated(t, sqlstore.Migrations, "migrations")
			want, got := e.schema(t, old), e.schema(t, shared)
			if len(want) < 20 {
				t.Fatalf("the old schema has %d objects; the comparison would prove nothing", len(want))
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("schema (-before +shared):\n%s", d)
			}
		})
	}
}

// mainVersions are the versions s's main database has applied, without the
// SQLite audit files' (audit/..., leaves/...), which store/sqlite migrates.
func mainVersions(ctx context.Context, s stores) ([]string, error) {
	vs, err := s.versions(ctx)
	return slices.DeleteFunc(vs, func(v string) bool { return strings.Contains(v, "/") }), err
}

// TestUpgrade: a database made by the engine's own migrations (before they
// were shared) opens with today's code, which applies what it lacks and
// nothing else, keeps every row, and passes the conformance suites. There
// are two such databases: one made at the branch point (v0: 0001-0009, to
// which the shared 0010-0014 are then applied) and one made by main's code
// since (v1: 0001-0014 too, to which nothing is applied). Each suite runs
// where its tables came from the old files: those of 0001-0009 on v0, those
// of 0010-0014 on v1.
func TestUpgrade(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	shared, err := fs.Glob(sqlstore.Migrations, "migrations/*.sql")
	storetest.NoErr(t, err)
	for i, name := range shared {
		shared[i] = strings.TrimSuffix(path.Base(name), ".sql")
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			old := func(t testing.TB, dirs []string) string {
				where, raw := e.migrated(t, fixtures, dirs...)
				raw.Close()
				return where
			}
			t.Run("v0/KeepsRows", func(t *testing.T) {
				t.Parallel()
				where, raw := e.migrated(t, fixtures, e.v0()...)
				at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixMicro()
				for _, q := range []string{
					fmt.Sprintf(`INSERT INTO customers (id, name, email, birth_year, since, password_hash) VALUES (7, 'Ada', 'ada@example.com', 1990, %d, 'h')`, at),
					fmt.Sprintf(`INSERT INTO partners (id, legal_name, lei, homepage, security_contact, redirect_uris, purposes, attested, attest_signatory, attested_at, rate_limit, status, created_at, updated_at)
						VALUES ('p1', 'Partner', 'LEI', 'https://p.example', 'sec@p.example', '["https://p.example/cb"]', '{}', 1, 'Sig', %d, 60, 'active', %d, %d)`, at, at, at),
					fmt.Sprintf(`INSERT INTO consents (id, customer_id, partner_id, resources, purposes, duration_type, duration_days, lookback_days, created_at, updated_at, expires_at, status)
						VALUES ('g1', 7, 'p1', '[{"account":1,"clusters":["BALANCES"]}]', '{}', 'TIME_BOUND', 90, 365, %d, %d, %d, 'ACTIVE')`, at, at, at+int64(90*24*time.Hour/time.Microsecond)),
					fmt.Sprintf(`INSERT INTO chat_links (platform, user_id, customer_id, grant_id, linked_at) VALUES ('sim', 'u1', 7, 'g1', %d)`, at),
					fmt.Sprintf(`INSERT INTO accounts (id, customer_id, kind, name, currency, status, number, routing, balance, unbounded, opened_at)
						VALUES (1, 0, 'internal', 'A', 'USD', 'open', 'N1', 'R', -100, %s, %d), (2, 7, 'checking', 'B', 'USD', 'open', 'N2', 'R', 100, %s, %d)`, map[string]string{"sqlite": "1", "postgres": "true"}[e.name], at, map[string]string{"sqlite": "0", "postgres": "false"}[e.name], at),
					fmt.Sprintf(`INSERT INTO transfers (id, client, idem_key, request_hash, currency, amount, description, status, created_at, posted_at)
						VALUES (1, 'c', 'k', %s, 'USD', 100, 'd', 'posted', %d, %d)`, map[string]string{"sqlite": "zeroblob(32)", "postgres": "decode(repeat('00', 32), 'hex')"}[e.name], at, at),
					fmt.Sprintf(`INSERT INTO postings (account_id, at, transfer_id, amount) VALUES (2, %d, 1, 100), (1, %d, 1, -100)`, at, at),
				} {
					if _, err := raw.Exec(q); err != nil {
						t.Fatal(err)
					}
				}
				raw.Close()
				s := e.open(t, where)
				if vs, err := mainVersions(ctx, s); err != nil || !slices.Equal(vs, shared) {
					t.Fatalf("versions after open = %v, %v; want %v", vs, err, shared)
				}
				if c, err := s.identity.Customer(ctx, 7); err != nil || c.Email != "ada@example.com" {
					t.Errorf("customer = %+v, %v", c, err)
				}
				if g, err := s.consent.Grant(ctx, "g1"); err != nil || g.Partner != "p1" || len(g.Resources) != 1 {
					t.Errorf("grant = %+v, %v", g, err)
				}
				if l, err := s.messenger.Link(ctx, assistant.Key{Platform: "sim", User: "u1"}); err != nil || l.Customer != 7 {
					t.Errorf("link = %+v, %v", l, err)
				}
				if id, err := s.db.Deployment(ctx); err != nil || len(id) != 18 {
					t.Errorf("deployment made by the shared 0011 = %q, %v", id, err)
				}
				// 0016 wrote the transfer's legs from its postings.
				want := []ledger.Posting{{Account: 1, Amount: -100}, {Account: 2, Amount: 100}}
				if tr, err := s.ledger.Transfer(ctx, 1); err != nil || !slices.Equal(tr.Postings, want) {
					t.Errorf("transfer = %+v, %v; want postings %v", tr, err, want)
				}
				if rep, err := s.ledger.Verify(ctx); err != nil || !rep.OK() {
					t.Errorf("verify = %+v, %v", rep, err)
				}
			})
			t.Run("v1/KeepsRows", func(t *testing.T) {
				t.Parallel()
				where, raw := e.migrated(t, fixtures, e.v1()...)
				var cluster string
				storetest.NoErr(t, raw.QueryRow(`SELECT cluster FROM deployment WHERE id = 1`).Scan(&cluster))
				at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC).UnixMicro()
				if _, err := raw.Exec(`INSERT INTO keyring_keys (name, version, kid, kek_id, sealed, public_key, created_at, activates_at)
					VALUES ('audit', 1, 'k1', 'kek1', $1, $2, $3, $3)`, []byte{1}, []byte{2}, at); err != nil {
					t.Fatal(err)
				}
				raw.Close()
				s := e.open(t, where)
				if vs, err := mainVersions(ctx, s); err != nil || !slices.Equal(vs, shared) {
					t.Fatalf("versions after open = %v, %v; want %v", vs, err, shared)
				}
				if id, err := s.db.Deployment(ctx); err != nil || id != cluster {
					t.Errorf("deployment = %q, %v; want the one main's 0011 made, %q", id, err, cluster)
				}
				if ks, err := s.keys.SealedKeys(ctx, "audit"); err != nil || len(ks) != 1 || ks[0].KID != "k1" || ks[0].Created.UnixMicro() != at {
					t.Errorf("keys = %+v, %v", ks, err)
				}
			})
			// The suites of the stores shared here, on the old schema. The
			// ledger's and the insights' run on the fresh schema only:
			// TestMigrationsBuildTodaysSchema shows an upgraded one equal to
			// it, and v0/KeepsRows that 0016 filled the legs.
			// Each subtest gets a copy of one database per version that the
			// old files made and today's code upgraded (e.upgraded).
			v0 := func(t testing.TB) stores { return e.open(t, e.upgraded(t, e.v0())) }
			t.Run("v0/Consent", func(t *testing.T) {
				storetest.Consent(t, func(t testing.TB) (consent.Store, identity.Store) { s := v0(t); return s.consent, s.identity })
			})
			t.Run("v0/Identity", func(t *testing.T) {
				storetest.Identity(t, func(t testing.TB) identity.Store { return v0(t).identity })
			})
			t.Run("v0/DataAPI", func(t *testing.T) { storetest.DataAPI(t, func(t testing.TB) records.Store { return v0(t).dataapi }) })
			t.Run("v0/Messenger", func(t *testing.T) {
				storetest.Messenger(t, func(t testing.TB) assistant.Store { return v0(t).messenger })
			})
			t.Run("v0/Alerts", func(t *testing.T) { storetest.Alerts(t, func(t testing.TB) alerts.Store { return v0(t).alerts }) })
			t.Run("v1/Keys", func(t *testing.T) {
				storetest.Keys(t, func(t testing.TB) (keyring.Store, consent.Store) {
					s := e.open(t, e.upgraded(t, e.v1()))
					return s.keys, s.consent
				},
					func(t testing.TB) func() keyring.Store {
						where := e.upgraded(t, e.v1())
						return func() keyring.Store { return e.open(t, where).keys }
					})
			})
			t.Run("v1/Guard", func(t *testing.T) {
				storetest.Guard(t, func(t testing.TB) identity.Guard { return e.open(t, e.upgraded(t, e.v1())).guard })
			})
			t.Run("v1/Deployment", func(t *testing.T) {
				// Databases of their own, not copies of one, which would
				// share its deployment id.
				storetest.Deployment(t, func(t testing.TB) func() storetest.DeploymentStore {
					where := old(t, e.v1())
					return func() storetest.DeploymentStore { return e.open(t, where).db }
				})
			})
			t.Run("v1/Limits", func(t *testing.T) {
				storetest.Limits(t, func(t testing.TB) (limits.Store, limits.Store) {
					where := e.upgraded(t, e.v1())
					a := e.open(t, where)
					if e.name == "sqlite" {
						return a.limits, a.limits
					}
					return a.limits, e.open(t, where).limits
				})
			})
		})
	}
}

// TestUpgradedCopies: every copy e.upgraded hands out is the one upgraded
// database, rows the old files inserted included, even when the test
// before it deleted them (testdb's reset puts them back on PostgreSQL).
// Not parallel, so that the second borrower most likely gets the copy the
// first one spoilt rather than a new one.
func TestUpgradedCopies(t *testing.T) {
	ctx := context.Background()
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			var cluster string
			for i := range 3 {
				t.Run(strconv.Itoa(i), func(t *testing.T) {
					where := e.upgraded(t, e.v1())
					raw, err := sql.Open(e.driver, where)
					storetest.NoErr(t, err)
					defer raw.Close()
					var got string
					var applied int
					if err := raw.QueryRow(`SELECT cluster FROM deployment WHERE id = 1`).Scan(&got); err != nil {
						t.Fatalf("the deployment row v1's 0011 made: %v", err)
					}
					storetest.NoErr(t, raw.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&applied))
					if i == 0 {
						cluster = got
					}
					if got != cluster || applied == 0 {
						t.Errorf("copy %d: deployment %q, %d versions applied; want %q, as in the first", i, got, applied, cluster)
					}
					if vs, err := mainVersions(ctx, e.open(t, where)); err != nil || len(vs) == 0 {
						t.Errorf("versions = %v, %v", vs, err)
					}
					// Spoil the copy for the next borrower.
					for _, q := range []string{`DELETE FROM deployment`, `DELETE FROM schema_migrations`} {
						if _, err := raw.Exec(q); err != nil {
							t.Fatal(err)
						}
					}
				})
			}
		})
	}
}
