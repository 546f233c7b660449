// Package ledgersql holds the SQL text that both engines run unchanged: the
// ledger's invariant checks behind ledger.Store.Verify. Keeping one copy
// means SQLite and PostgreSQL verify exactly the same rules.
//
// It holds strings only: no driver, no I/O. Each query is portable SQL that
// both SQLite (3.35+) and PostgreSQL (13+) accept, and returns rows of
// (id text, a bigint, b bigint), one per problem, rendered with Format.
package ledgersql

// Check is one invariant: SQL returns one row per violation.
type Check struct {
	Name   string
	SQL    string
	Format string // fmt verb string over (id string, a int64, b int64)
}

// Checks are the ledger invariants Verify runs, in order.
var Checks = []Check{
	{
		Name: "balance_is_fold_of_postings",
		SQL: `SELECT CAST(a.id AS TEXT), a.balance, coalesce(x.s, 0) FROM accounts a
LEFT JOIN (SELECT p.account_id, sum(p.amount) AS s FROM postings p JOIN transfers t ON t.id = p.transfer_id
           WHERE t.status = 'posted' GROUP BY p.account_id) x ON x.account_id = a.id
WHERE a.balance <> coalesce(x.s, 0) ORDER BY a.id`,
		Format: "account %s: stored balance %d, but its posted postings sum to %d",
	},
	{
		Name: "held_is_fold_of_pending_debits",
		SQL: `SELECT CAST(a.id AS TEXT), a.held, coalesce(x.s, 0) FROM accounts a
LEFT JOIN (SELECT p.account_id, sum(-p.amount) AS s FROM postings p JOIN transfers t ON t.id = p.transfer_id
           WHERE t.status = 'pending' AND p.amount < 0 GROUP BY p.account_id) x ON x.account_id = a.id
WHERE a.held <> coalesce(x.s, 0) ORDER BY a.id`,
		Format: "account %s: stored holds %d, but its pending debits sum to %d",
	},
	{
		Name: "transfer_sums_to_zero",
		SQL: `SELECT CAST(t.id AS TEXT), coalesce(sum(p.amount), 0), count(p.transfer_id) FROM transfers t
LEFT JOIN postings p ON p.transfer_id = t.id GROUP BY t.id
HAVING coalesce(sum(p.amount), 0) <> 0 OR count(p.transfer_id) < 2 ORDER BY t.id`,
		Format: "transfer %s: postings sum to %d over %d postings",
	},
	{
		Name: "posting_currency_matches_account",
		SQL: `SELECT CAST(p.transfer_id AS TEXT), p.account_id, 0 FROM postings p
JOIN transfers t ON t.id = p.transfer_id JOIN accounts a ON a.id = p.account_id
WHERE a.currency <> t.currency ORDER BY p.transfer_id`,
		Format: "transfer %s: account %d is in another currency%.0d",
	},
	{
		Name:   "currency_sums_to_zero",
		SQL:    `SELECT currency, sum(balance), count(*) FROM accounts GROUP BY currency HAVING sum(balance) <> 0 ORDER BY currency`,
		Format: "currency %s: balances sum to %d over %d accounts, not zero",
	},
	{
		Name: "within_limit",
		SQL: `SELECT CAST(id AS TEXT), balance - held, limit_minor FROM accounts
WHERE NOT unbounded AND balance - held < -limit_minor ORDER BY id`,
		Format: "account %s: available %d is past its limit %d",
	},
}
