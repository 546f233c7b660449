package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"github.com/bankbridge/bankbridge/store/storetest"
	"net"
	"testing"
	"time"

	"github.com/bankbridge/bankbridge"
	"github.com/bankbridge/bankbridge/consent"
	"github.com/bankbridge/bankbridge/store/sqlstore"
)

// TestErrorsMapAlikeOnBothEngines: each driver error the stores map, made
// for real on each engine, becomes the same domain error: unique
// violations a Conflict (or the caller's own error), busy, locked,
// serialization failures, deadlocks and lock timeouts an Unavailable the
// caller may retry, a server restarting or refusing connections an
// Unavailable too (a 503, not a 500, while PostgreSQL restarts), and
// anything else stays internal. Never by text: an
// error that only reads like a driver's is not mapped.
func TestErrorsMapAlikeOnBothEngines(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type cause struct {
		name string
		make func(t *testing.T, db *sql.DB, where string) error
	}
	unique := cause{"UniqueViolation", func(t *testing.T, db *sql.DB, _ string) error {
		if _, err := db.Exec(`CREATE TABLE dup (k TEXT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO dup VALUES ('a')`); err != nil {
			t.Fatal(err)
		}
		_, err := db.Exec(`INSERT INTO dup VALUES ('a')`)
		return err
	}}
	causes := map[string][]cause{
		"sqlite": {unique, {"Busy", func(t *testing.T, db *sql.DB, path string) error {
			// Another connection holds the write lock; this one does not wait.
			other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=0")
			storetest.NoErr(t, err)
			defer other.Close()
			if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS w (v INTEGER)`); err != nil {
				t.Fatal(err)
			}
			hold, err := db.BeginTx(ctx, nil)
			storetest.NoErr(t, err)
			defer hold.Rollback()
			if _, err := hold.Exec(`INSERT INTO w VALUES (1)`); err != nil {
				t.Fatal(err)
			}
			_, err = other.Exec(`INSERT INTO w VALUES (2)`)
			return err
		}}},
		"postgres": {unique},
	}
	// PostgreSQL's transient failures, raised by the server with their SQLSTATE.
	for name, code := range map[string]string{"SerializationFailure": "40001", "Deadlock": "40P01", "LockNotAvailable": "55P03"} {
		causes["postgres"] = append(causes["postgres"], cause{name, func(t *testing.T, db *sql.DB, _ string) error {
			_, err := db.Exec(`DO $$ BEGIN RAISE EXCEPTION 'transient' USING ERRCODE = '` + code + `'; END $$`)
			return err
		}})
	}
	// A restarting server: it ends sessions with 57P01 and refuses new
	// ones with 57P03 (raised here with their SQLSTATE), and a stopped one
	// refuses the connection (a port nothing listens on).
	for name, code := range map[string]string{"AdminShutdown": "57P01", "CannotConnectNow": "57P03"} {
		causes["postgres"] = append(causes["postgres"], cause{name, func(t *testing.T, db *sql.DB, _ string) error {
			_, err := db.Exec(`DO $$ BEGIN RAISE EXCEPTION 'restarting' USING ERRCODE = '` + code + `'; END $$`)
			return err
		}})
	}
	causes["postgres"] = append(causes["postgres"], cause{"Refused", func(t *testing.T, _ *sql.DB, _ string) error {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		storetest.NoErr(t, err)
		addr := ln.Addr().String()
		ln.Close()
		down, err := sql.Open("pgx", "postgres://postgres@"+addr+"/x?sslmode=disable&connect_timeout=2")
		storetest.NoErr(t, err)
		defer down.Close()
		return down.PingContext(ctx)
	}})
	want := map[string]struct {
		kind bankbridge.Kind
		code string
	}{
		"UniqueViolation":      {bankbridge.Conflict, "duplicate"},
		"Busy":                 {bankbridge.Unavailable, "database_busy"},
		"SerializationFailure": {bankbridge.Unavailable, "database_busy"},
		"Deadlock":             {bankbridge.Unavailable, "database_busy"},
		"LockNotAvailable":     {bankbridge.Unavailable, "database_busy"},
		"AdminShutdown":        {bankbridge.Unavailable, "database_unavailable"},
		"CannotConnectNow":     {bankbridge.Unavailable, "database_unavailable"},
		"Refused":              {bankbridge.Unavailable, "database_unavailable"},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range causes[e.name] {
				t.Run(c.name, func(t *testing.T) {
					where := e.bare(t)
					raw, err := sql.Open(e.driver, where)
					storetest.NoErr(t, err)
					defer raw.Close()
					cause := c.make(t, raw, where)
					if cause == nil {
						t.Fatal("no error made")
					}
					db := sqlstore.New(raw, raw, e.dial)
					got := db.Err("op", cause, nil)
					w := want[c.name]
					if bankbridge.ErrorKind(got) != w.kind || bankbridge.ErrorCode(got) != w.code || !errors.Is(got, cause) {
						t.Errorf("Err(%v) = %v (kind %v, code %q); want kind %v, code %q, wrapping the cause", cause, got, bankbridge.ErrorKind(got), bankbridge.ErrorCode(got), w.kind, w.code)
					}
					if c.name == "UniqueViolation" {
						if got := db.Err("op", cause, consent.ErrPartnerTaken); !errors.Is(got, consent.ErrPartnerTaken) {
							t.Errorf("with a dup error: %v; want ErrPartnerTaken", got)
						}
					}
				})
			}
			t.Run("NotByText", func(t *testing.T) {
				db := sqlstore.New(nil, nil, e.dial)
				for _, text := range []string{"UNIQUE constraint failed: dup.k", "database is locked", `duplicate key value violates unique constraint "dup_pkey" (SQLSTATE 23505)`} {
					if got := db.Err("op", errors.New(text), nil); bankbridge.ErrorKind(got) != bankbridge.Internal {
						t.Errorf("Err(%q) = kind %v; want Internal: errors are mapped by code, never by text", text, bankbridge.ErrorKind(got))
					}
				}
			})
		})
	}
	// And through a store: the same duplicate partner is ErrPartnerTaken
	// on each engine, the same absent grant ErrGrantNotFound.
	for _, e := range engines {
		t.Run(e.name+"/Store", func(t *testing.T) {
			t.Parallel()
			where, _ := e.migrated(t, sqlstore.Migrations, "migrations")
			s := e.open(t, where)
			p := consent.Partner{ID: "p1", LegalName: "P", RedirectURIs: []string{"https://p.example/cb"}, Status: consent.PartnerActive,
				Attestation: consent.Attestation{NoSecondaryUse: true, Signatory: "S", At: time.Unix(1, 0)}}
			ev := consent.PartnerEvent{Partner: "p1", Action: "registered", At: time.Unix(1, 0)}
			storetest.NoErr(t, s.consent.CreatePartner(ctx, p, ev))
			if err := s.consent.CreatePartner(ctx, p, ev); !errors.Is(err, consent.ErrPartnerTaken) {
				t.Errorf("second CreatePartner = %v; want ErrPartnerTaken", err)
			}
			if _, err := s.consent.Grant(ctx, "absent"); !errors.Is(err, consent.ErrGrantNotFound) {
				t.Errorf("Grant(absent) = %v; want ErrGrantNotFound", err)
			}
		})
	}
}
