-- Audit: the disclosure log (see audit/doc.go and docs/audit.md).
-- Records are appended and never updated; retention clears a record's
-- fields (pruned) and keeps its leaf hash, so the tree still verifies.
-- Times are Unix microseconds; tree head times Unix milliseconds (RFC 9162).
CREATE TABLE audit_records (
  seq         bigint  PRIMARY KEY,           -- leaf index, dense from 0
  at          bigint  NOT NULL,
  kind        text    NOT NULL,
  partner     text    NOT NULL DEFAULT '',
  consent     text    NOT NULL DEFAULT '',
  customer_id bigint  NOT NULL DEFAULT 0,
  accounts    text    NOT NULL DEFAULT '',   -- comma-joined account ids
  clusters    text    NOT NULL DEFAULT '',   -- comma-joined identifiers
  fields      text    NOT NULL DEFAULT '',
  purpose     text    NOT NULL DEFAULT '',
  actor       text    NOT NULL DEFAULT '',
  outcome     text    NOT NULL DEFAULT '',
  request_id  text    NOT NULL DEFAULT '',
  detail      text    NOT NULL DEFAULT '',
  leaf_hash   bytea   NOT NULL,
  leaf_key    bigint  NOT NULL,              -- first 8 bytes of leaf_hash: a small index for lookups by hash
  pruned      boolean NOT NULL DEFAULT false
);
CREATE INDEX audit_records_customer_idx ON audit_records(customer_id, seq);
CREATE INDEX audit_records_partner_idx ON audit_records(partner, seq);
CREATE INDEX audit_records_leaf_idx ON audit_records(leaf_key);

-- The log's size: appenders (on every instance) take leaf indexes from it
-- under its row lock, in the same transaction as their inserts, so indexes
-- have no gaps even when a transaction rolls back.
CREATE TABLE audit_state (
  id   integer PRIMARY KEY CHECK (id = 1),
  size bigint  NOT NULL
);
INSERT INTO audit_state (id, size) VALUES (1, 0);

-- Perfect subtree hashes at levels 4, 8, 12... (audit.NodeStride).
CREATE TABLE audit_nodes (
  level smallint NOT NULL,
  idx   bigint   NOT NULL,
  hash  bytea    NOT NULL,
  PRIMARY KEY (level, idx)
);

CREATE TABLE audit_heads (
  tree_size bigint PRIMARY KEY,
  root      bytea  NOT NULL,
  signed_at bigint NOT NULL,                 -- Unix milliseconds
  key_id    bytea  NOT NULL,
  signature bytea  NOT NULL
);

CREATE TABLE audit_checkpoints (
  upto          bigint PRIMARY KEY,          -- records below were pruned
  at            bigint NOT NULL,
  root          bytea  NOT NULL,             -- the head signed at exactly upto
  signed_at     bigint NOT NULL,
  key_id        bytea  NOT NULL,
  signature     bytea  NOT NULL,
  export_sha256 bytea  NOT NULL
);
