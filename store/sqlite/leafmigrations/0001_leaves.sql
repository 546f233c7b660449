-- The audit log's records by leaf hash, for inclusion proofs asked by hash
-- (AuditStore.RecordByLeafHash). This file only holds what can be rebuilt
-- from the audit file: the sealer fills it after each signed head
-- (AuditStore.indexLeaves), on a writer of its own, so that building it
-- never holds the audit file's one writer, which every API call's record
-- waits for. upto is where the index ends: records from there on are found
-- by a scan of the log's tail. A lost or removed file is rebuilt.
CREATE TABLE audit_leaves (
  leaf_key INTEGER NOT NULL,             -- first 8 bytes of leaf_hash
  seq      INTEGER NOT NULL,
  PRIMARY KEY (leaf_key, seq)
) WITHOUT ROWID;
CREATE TABLE leaves_state (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  upto INTEGER NOT NULL
);
INSERT INTO leaves_state (id, upto) VALUES (1, 0);
