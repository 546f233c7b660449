// Package postgres connects to PostgreSQL through pgx (the production
// engine) and implements on it the stores where PostgreSQL differs: the
// ledger's set-oriented batches (Apply; the rest of the ledger is shared), the disclosure log's appender, bulk loads,
// the fleet lease and rate budgets. The stores whose SQL is the same on
// both engines, and the migrations, are store/sqlstore's, over the same
// pool (DB embeds sqlstore.Stores).
//
// Ledger batches are set-oriented: one statement locks every touched account
// in ascending id order (FOR UPDATE), and arrays (unnest) insert all transfers
// and postings and update all balances of a batch in a handful of statements,
// because PostgreSQL here is bound by CPU per statement, not by fsync. Driver
// errors are mapped by SQLSTATE and constraint name, never by text.
//
// Lease (lease.go) is how a fleet of instances runs a job once: a
// session-level advisory lock on a connection of its own, released by the
// server when the holder's session dies. Budgets (limit.go) is how a fleet
// keeps to one rate budget: a GCRA row per budget in an UNLOGGED table,
// one upsert per decision.
//
// It must never import net/http or any edge package.
package postgres
