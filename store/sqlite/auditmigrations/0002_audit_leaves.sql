-- Lookups by leaf hash go through audit_leaves, filled in the transaction
-- that stores a signed head (AuditStore.Seal), instead of an index on
-- audit_records(leaf_key) that every append had to update at a random page.
-- Records past leaves_upto (not yet sealed, a few seconds' worth) are found
-- by a scan of the log's tail (AuditStore.RecordByLeafHash).
ALTER TABLE audit_state ADD COLUMN leaves_upto INTEGER NOT NULL DEFAULT 0;
CREATE TABLE audit_leaves (
  leaf_key INTEGER NOT NULL,
  seq      INTEGER NOT NULL,
  PRIMARY KEY (leaf_key, seq)
) WITHOUT ROWID;
INSERT INTO audit_leaves (leaf_key, seq) SELECT leaf_key, seq FROM audit_records;
UPDATE audit_state SET leaves_upto = size;
DROP INDEX audit_records_leaf_idx;
