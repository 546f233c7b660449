package sqlite

import (
	"context"

	"github.com/bankbridge/bankbridge/store/sqlstore"
)

// The capabilities whose SQL is the same on both engines are implemented
// once, in store/sqlstore, over this database's writer and read pool.

// Consent returns the consent store of db.
func (db *DB) Consent() *sqlstore.ConsentStore { return db.sql.Consent() }

// Messenger returns the messenger store of db.
func (db *DB) Messenger() *sqlstore.MessengerStore { return db.sql.Messenger() }

// Identity returns the identity store of db.
func (db *DB) Identity() *sqlstore.IdentityStore { return db.sql.Identity() }

// DataAPI returns the data API's store of db.
func (db *DB) DataAPI() *sqlstore.DataAPIStore { return db.sql.DataAPI() }

// Alerts returns the alerts store of db.
func (db *DB) Alerts() *sqlstore.AlertsStore { return db.sql.Alerts() }

// Keys returns the keyring store of db.
func (db *DB) Keys() *sqlstore.KeyStore { return db.sql.Keys() }

// Limits returns the store of payments recorded against the limits.
func (db *DB) Limits() *sqlstore.LimitsStore { return db.sql.Limits() }

// Deployment returns the id this database generated when it was first
// migrated: the default cluster name of every instance that shares it.
func (db *DB) Deployment(ctx context.Context) (string, error) { return db.sql.Deployment(ctx) }

// Rails returns the store of payments over the rails.
func (db *DB) Rails() *sqlstore.RailsStore { return db.sql.Rails() }

// Scheduled returns the scheduled payments' store.
func (db *DB) Scheduled() *sqlstore.ScheduledStore { return db.sql.Scheduled() }
