// Package ledger owns money: accounts, double-entry transfers, holds, balances
// and idempotency. It is the source of truth every other part reads.
//
// A transfer is a set of postings that sum to zero in one currency. A pending
// transfer is a hold: it lowers the available balance of the accounts it debits
// until it is posted (money moves) or voided (the hold is released). Balances are
// stored as running totals for speed; Store.Verify proves they equal the fold of
// the postings.
//
// Writes go through Service, which batches concurrent requests into one database
// transaction (group commit) while each request keeps its own outcome: a transfer
// that fails its balance check fails alone. The rules that decide each outcome
// live in Plan, shared by every engine, so SQLite and PostgreSQL cannot drift.
//
// Amount.Display is the one way money reads to people on every channel (web,
// chat, alerts, e-mail, the console), and Grouped the one way counts do;
// Amount.Format is the ungrouped form for machines.
//
// The ledger must never import net/http, consent, a store or a driver; it knows
// nothing of channels or partners. Known limits: one currency per transfer; a
// failed request is not remembered, so retrying it with the same key
// re-evaluates it (nothing moved the first time).
package ledger
