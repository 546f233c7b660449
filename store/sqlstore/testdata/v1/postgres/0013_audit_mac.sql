-- Each record's MAC (audit.MACKey.Tag: key id || HMAC-SHA256 of its leaf hash)
-- under a key the database does not hold (docs/audit.md). NULL for records
-- written before MACs: the heads signed before cover them.
ALTER TABLE audit_records ADD COLUMN mac bytea;
