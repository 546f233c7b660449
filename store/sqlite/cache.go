package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/bankbridge/bankbridge/ledger"
	"github.com/bankbridge/bankbridge/store/sqlstore"
)

// accountCache keeps the accounts the ledger batches touch, so a batch does
// not read them back from SQLite. It is only correct because this process
// holds the database's one writer connection and every write to accounts
// goes through it: Apply refreshes entries after commit, SetAccountStatus
// forgets its account, Exec forgets everything. Writes by another process
// (an operator's sqlite3 shell, a second bankbridge) are detected with
// PRAGMA data_version, which changes when any other connection commits; the
// cache is then dropped before the batch reads anything.
// maxCachedAccounts bounds the cache to some tens of megabytes.
const maxCachedAccounts = 100_000

type accountCache struct {
	mu      sync.Mutex
	version int64
	m       map[ledger.AccountID]ledger.Account
}

// sync drops the cache if another connection committed since the last batch.
// It runs inside the batch's write transaction, so nothing can commit
// between the check and the reads that follow.
func (c *accountCache) sync(ctx context.Context, tx *sql.Tx) error {
	var v int64
	if err := tx.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if v != c.version || c.m == nil {
		c.m = make(map[ledger.AccountID]ledger.Account)
		c.version = v
	}
	return nil
}

// load fills into with copies of the accounts ids, from the cache or, for
// those it lacks, from the database. Unknown ids are left out.
func (c *accountCache) load(ctx context.Context, tx *sql.Tx, ids []ledger.AccountID, into map[ledger.AccountID]*ledger.Account) error {
	var missing []ledger.AccountID
	c.mu.Lock()
	for _, id := range ids {
		if a, ok := c.m[id]; ok {
			into[id] = &a
		} else {
			missing = append(missing, id)
		}
	}
	c.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `SELECT `+sqlstore.AccountCols+` FROM accounts WHERE id = ?`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, id := range missing {
		a, err := sqlstore.ScanAccount(stmt.QueryRowContext(ctx, id))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		into[id] = &a
	}
	c.mu.Lock()
	// Bounded: a bank with millions of accounts keeps the busy ones; when
	// the cache is full it starts again rather than grow without limit.
	if len(c.m)+len(missing) > maxCachedAccounts {
		clear(c.m)
	}
	for _, id := range missing {
		if a := into[id]; a != nil {
			c.m[id] = *a
		}
	}
	c.mu.Unlock()
	return nil
}

// store records the committed state of the accounts a batch read.
func (c *accountCache) store(accts map[ledger.AccountID]*ledger.Account, _ []ledger.AccountID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, a := range accts {
		c.m[id] = *a
	}
}

func (c *accountCache) forget(id ledger.AccountID) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}

func (c *accountCache) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
