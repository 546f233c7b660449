package sqlite

// ExecArgs runs raw SQL with arguments on the audit file's writer, for the audit suite's
// tampering; it exists only in tests.
func (db *DB) ExecArgs(query string, args ...any) error {
	_, err := db.audit.w.Exec(query, args...)
	return err
}
