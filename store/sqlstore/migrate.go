package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"text/template"
	"time"
)

// Migrations are the main database's schema on both engines, one file per
// version. Each file is a text/template: {{.int64}}, {{.int32}}, {{.int16}},
// {{.serial}}, {{.bytes}}, {{.bool}}, {{.false}}, {{.true}} and
// {{.without_rowid}} spell the engine's types (Dialect.types), and
// {{if .postgres}} / {{if .sqlite}} hold the few statements only one engine
// has. A file that differs nowhere is plain SQL.
//
//go:embed migrations/*.sql
var Migrations embed.FS

// Render returns the migration file name of fsys as d's SQL.
func Render(d Dialect, fsys fs.FS, name string) (string, error) {
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return "", err
	}
	t, err := template.New(path.Base(name)).Option("missingkey=error").Parse(string(body))
	if err != nil {
		return "", err
	}
	data := map[string]any{"postgres": d.Name == "postgres", "sqlite": d.Name == "sqlite"}
	for k, v := range d.types {
		data[k] = v
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Migrate applies the migrations dir/*.sql of fsys not yet recorded in
// schema_migrations, in file-name order, each in its own transaction with
// its record, so a failed one leaves nothing behind and the next start
// tries again. It is safe to run on every start and from instances
// starting together (Dialect.lock). A version is the file's name without
// .sql; the table and the versions are those the engines' separate runners
// kept before, so a database made by them sees every migration applied.
func (db *DB) Migrate(ctx context.Context, fsys fs.FS, dir string) (err error) {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: migrate: %w", db.d.Name, err)
	}
	defer conn.Close()
	if db.d.lock != "" {
		if _, err := conn.ExecContext(ctx, db.d.lock); err != nil {
			return fmt.Errorf("%s: migrate lock: %w", db.d.Name, err)
		}
		defer func() {
			_, uerr := conn.ExecContext(context.Background(), db.d.unlock)
			err = errors.Join(err, uerr)
		}()
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at `+db.d.types["int64"]+` NOT NULL)`); err != nil {
		return fmt.Errorf("%s: migrate: %w", db.d.Name, err)
	}
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(path.Base(name), ".sql")
		if err := db.migrateOne(ctx, conn, fsys, name, version); err != nil {
			return fmt.Errorf("%s: migration %s/%s: %w", db.d.Name, dir, version, err)
		}
	}
	return nil
}

func (db *DB) migrateOne(ctx context.Context, conn *sql.Conn, fsys fs.FS, name, version string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var one int
	switch err := tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM schema_migrations WHERE version = $1`), version).Scan(&one); {
	case err == nil:
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	body, err := Render(db.d, fsys, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, body); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`), version, time.Now().UnixMicro()); err != nil {
		return err
	}
	return tx.Commit()
}

// Versions lists the migrations applied, in order.
func (db *DB) Versions(ctx context.Context) ([]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	return Collect(rows, func(s Scanner) (string, error) {
		var v string
		return v, s.Scan(&v)
	})
}
