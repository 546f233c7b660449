package sqlstore

// Stores hands out the capability stores implemented here, each from one
// method on it (consent.go, identity.go, ...). DB embeds it, and so do
// store/sqlite's and store/postgres's DB: a new capability's store is
// offered by both engines through the one method written beside it.
type Stores struct{ db *DB }
