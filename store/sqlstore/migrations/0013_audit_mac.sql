-- Each record's MAC (audit.MACKey.Tag: key id || HMAC-SHA256 of its leaf hash)
-- under a key the database does not hold (docs/audit.md). NULL for records
-- written before MACs: the heads signed before cover them. On SQLite the
-- disclosure log lives in a file of its own (0005_audit.sql), whose
-- migration store/sqlite's auditmigrations/0004_audit_mac.sql adds the column.
{{if .postgres}}ALTER TABLE audit_records ADD COLUMN mac {{.bytes}};{{end}}
