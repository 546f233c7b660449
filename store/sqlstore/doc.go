// Package sqlstore implements, once, the capability stores whose SQL is the
// same on SQLite and PostgreSQL (consent, identity and its login guard,
// messenger, the data API's records, alerts, the keyring, payment limits,
// the deployment id, insights, and the shared parts of the others: the
// ledger but for Apply, the disclosure log's reads), and holds the one set
// of migrations both engines apply.
//
// store/sqlite and store/postgres open the database and hand their handles
// here: SQLite its single writer connection and its read-only pool
// (database/sql), PostgreSQL its pgx pool, which the stores use through pgx
// itself behind the same small Querier (pgx.go says why). Their DB types
// keep the public API (db.Consent(), db.Identity(), ...) and return these
// implementations. What truly differs stays in the engine's package: the
// ledger's batches, the disclosure log's appender and files, bulk loads,
// and the fleet lease (PostgreSQL's advisory locks; on SQLite, a fleet of
// one, always granted).
//
// Everything the stores need to know about an engine is a Dialect
// (dialect.go): placeholders, claiming rows, the migration lock, the
// statement parameter limit, how driver errors are classified (by code,
// never by text) and how the migrations spell their types.
//
// # Adding a capability's store
//
//  1. Write one file here, name.go: a NameStore struct over *DB, a
//     constructor method on Stores (which both engines' DB embed), and
//     var _ capability.Store = (*NameStore)(nil).
//     Write queries once with $1, $2 (rewritten for SQLite); use W() for
//     writes and for reads that must see them, R() for the other reads,
//     Begin for transactions, Upsert for bulk writes, db.Err to map
//     driver errors, micros and fromMicros for times.
//  2. Add its tables as the next migrations/NNNN_name.sql, with the
//     {{.int64}}-style types of migrate.go where the engines spell a type
//     differently; {{if .postgres}} only where a statement truly differs.
//  3. Add one row to TestConformance (conformance_test.go), which runs
//     the capability's storetest suite on both engines.
//
// If a statement must differ, prefer a Dialect field with a comment that
// says why over a second implementation.
//
// It must never import net/http or any edge package.
package sqlstore
