// Package sqlite opens the embedded SQLite file in WAL mode (the
// single-machine default) and implements on it the stores where SQLite
// differs: the ledger's Apply (single writer, account cache) and the
// disclosure log's appender and files. The
// stores whose SQL is the same on both engines (consent, identity and its
// login guard, messenger, data API, alerts, keyring, payment limits, the
// deployment id, insights, the rest of the ledger, the reads of the log) are store/sqlstore's,
// over this package's writer and read pool (DB embeds sqlstore.Stores);
// so are the migrations of the main file.
//
// SQLite has one writer. The store keeps one write connection and a pool of
// read-only connections; the ledger's batcher is the only writer of money, so
// a batch of transfers is one BEGIN IMMEDIATE transaction. Driver errors are
// mapped to domain errors here, by extended result code, never by text.
//
// The disclosure log lives in a second file beside the first (AuditPath),
// with its own writer, small pages and a background checkpointer, so that a
// data API call waiting for its audit record never waits behind a ledger
// batch; its index by leaf hash lives in a third (LeavesPath), filled by
// the sealer on that file's writer, so that the wait is never behind a seal
// either (auditfile.go).
//
// Lease (lease.go) is the fleet lease of store/postgres for a fleet of one:
// always granted, callers of one name taking turns.
//
// It must never import net/http or any edge package.
package sqlite
