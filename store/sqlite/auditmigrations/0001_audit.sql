-- Audit: the disclosure log (see audit/doc.go and docs/audit.md), in its own
-- file beside the main database (store/sqlite/auditfile.go).
-- Records are appended and never updated; retention clears a record's
-- fields (pruned = 1) and keeps its leaf hash, so the tree still verifies.
-- Times are Unix microseconds; tree head times Unix milliseconds (RFC 9162).
CREATE TABLE audit_records (
  seq         INTEGER PRIMARY KEY,           -- leaf index, dense from 0
  at          INTEGER NOT NULL,
  kind        TEXT    NOT NULL,
  partner     TEXT    NOT NULL DEFAULT '',
  consent     TEXT    NOT NULL DEFAULT '',
  customer_id INTEGER NOT NULL DEFAULT 0,
  accounts    TEXT    NOT NULL DEFAULT '',   -- comma-joined account ids
  clusters    TEXT    NOT NULL DEFAULT '',   -- comma-joined identifiers
  fields      TEXT    NOT NULL DEFAULT '',
  purpose     TEXT    NOT NULL DEFAULT '',
  actor       TEXT    NOT NULL DEFAULT '',
  outcome     TEXT    NOT NULL DEFAULT '',
  request_id  TEXT    NOT NULL DEFAULT '',
  detail      TEXT    NOT NULL DEFAULT '',
  leaf_hash   BLOB    NOT NULL,
  leaf_key    INTEGER NOT NULL,              -- first 8 bytes of leaf_hash: a small index for lookups by hash
  pruned      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX audit_records_customer_idx ON audit_records(customer_id, seq);
CREATE INDEX audit_records_partner_idx ON audit_records(partner, seq);
CREATE INDEX audit_records_leaf_idx ON audit_records(leaf_key);

-- The log's size: appenders take leaf indexes from it under its row lock,
-- in the same transaction as their inserts, so indexes have no gaps.
CREATE TABLE audit_state (
  id   INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL
);
INSERT INTO audit_state (id, size) VALUES (1, 0);

-- Perfect subtree hashes at levels 4, 8, 12... (audit.NodeStride): a proof
-- reads a few of them instead of the leaves.
CREATE TABLE audit_nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB    NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TABLE audit_heads (
  tree_size INTEGER PRIMARY KEY,
  root      BLOB    NOT NULL,
  signed_at INTEGER NOT NULL,                -- Unix milliseconds
  key_id    BLOB    NOT NULL,
  signature BLOB    NOT NULL
);

CREATE TABLE audit_checkpoints (
  upto          INTEGER PRIMARY KEY,         -- records below were pruned
  at            INTEGER NOT NULL,
  root          BLOB    NOT NULL,            -- the head signed at exactly upto
  signed_at     INTEGER NOT NULL,
  key_id        BLOB    NOT NULL,
  signature     BLOB    NOT NULL,
  export_sha256 BLOB    NOT NULL
);
