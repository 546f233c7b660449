-- On SQLite the disclosure log lives in a file of its own (store/sqlite's
-- auditmigrations/ and audit.go): a database that applied the first version
-- of this migration has its tables moved at open by moveAudit. On PostgreSQL
-- it lives here.
{{if .postgres}}-- Audit: the disclosure log (see audit/doc.go and docs/audit.md).
-- Records are appended and never updated; retention clears a record's
-- fields (pruned) and keeps its leaf hash, so the tree still verifies.
-- Times are Unix microseconds; tree head times Unix milliseconds (RFC 9162).
CREATE TABLE audit_records (
  seq         {{.int64}}  PRIMARY KEY,           -- leaf index, dense from 0
  at          {{.int64}}  NOT NULL,
  kind        TEXT    NOT NULL,
  partner     TEXT    NOT NULL DEFAULT '',
  consent     TEXT    NOT NULL DEFAULT '',
  customer_id {{.int64}}  NOT NULL DEFAULT 0,
  accounts    TEXT    NOT NULL DEFAULT '',   -- comma-joined account ids
  clusters    TEXT    NOT NULL DEFAULT '',   -- comma-joined identifiers
  fields      TEXT    NOT NULL DEFAULT '',
  purpose     TEXT    NOT NULL DEFAULT '',
  actor       TEXT    NOT NULL DEFAULT '',
  outcome     TEXT    NOT NULL DEFAULT '',
  request_id  TEXT    NOT NULL DEFAULT '',
  detail      TEXT    NOT NULL DEFAULT '',
  leaf_hash   {{.bytes}}   NOT NULL,
  leaf_key    {{.int64}}  NOT NULL,              -- first 8 bytes of leaf_hash: a small index for lookups by hash
  pruned      {{.bool}} NOT NULL DEFAULT {{.false}}
);
CREATE INDEX audit_records_customer_idx ON audit_records(customer_id, seq);
CREATE INDEX audit_records_partner_idx ON audit_records(partner, seq);
CREATE INDEX audit_records_leaf_idx ON audit_records(leaf_key);

-- The log's size: appenders (on every instance) take leaf indexes from it
-- under its row lock, in the same transaction as their inserts, so indexes
-- have no gaps even when a transaction rolls back.
CREATE TABLE audit_state (
  id   {{.int32}} PRIMARY KEY CHECK (id = 1),
  size {{.int64}}  NOT NULL
);
INSERT INTO audit_state (id, size) VALUES (1, 0);

-- Perfect subtree hashes at levels 4, 8, 12... (audit.NodeStride).
CREATE TABLE audit_nodes (
  level {{.int16}} NOT NULL,
  idx   {{.int64}}   NOT NULL,
  hash  {{.bytes}}    NOT NULL,
  PRIMARY KEY (level, idx)
);

CREATE TABLE audit_heads (
  tree_size {{.int64}} PRIMARY KEY,
  root      {{.bytes}}  NOT NULL,
  signed_at {{.int64}} NOT NULL,                 -- Unix milliseconds
  key_id    {{.bytes}}  NOT NULL,
  signature {{.bytes}}  NOT NULL
);

CREATE TABLE audit_checkpoints (
  upto          {{.int64}} PRIMARY KEY,          -- records below were pruned
  at            {{.int64}} NOT NULL,
  root          {{.bytes}}  NOT NULL,             -- the head signed at exactly upto
  signed_at     {{.int64}} NOT NULL,
  key_id        {{.bytes}}  NOT NULL,
  signature     {{.bytes}}  NOT NULL,
  export_sha256 {{.bytes}}  NOT NULL
);
{{else}}SELECT 1;
{{end}}