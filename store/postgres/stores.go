package postgres

import "github.com/bankbridge/bankbridge/store/sqlstore"

// The capabilities whose SQL is the same on both engines are implemented
// once, in store/sqlstore, over this database's pool, through database/sql.

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
