-- Mirror mode (rails/mirror.go): the accounts taken on from the core, the
-- statements imported (one per account and sequence number), and the
-- entries the ledger refused. The entries themselves are ledger transfers,
-- keyed by the account and the core's reference.
CREATE TABLE mirror_accounts (
  number     TEXT PRIMARY KEY,
  account_id {{.int64}} NOT NULL,
  currency   TEXT NOT NULL,
  take_on    {{.int64}} NOT NULL,
  at         {{.int64}} NOT NULL
);

CREATE TABLE mirror_statements (
  number     TEXT NOT NULL,
  seq        {{.int64}} NOT NULL,
  stmt_id    TEXT NOT NULL,
  msg_id     TEXT NOT NULL,
  hash       {{.bytes}} NOT NULL,
  currency   TEXT NOT NULL,
  closing    {{.int64}} NOT NULL,
  entries    {{.int64}} NOT NULL,
  at         {{.int64}} NOT NULL,
  PRIMARY KEY (number, seq)
);

CREATE TABLE mirror_exceptions (
  number TEXT NOT NULL,
  ref    TEXT NOT NULL,
  seq    {{.int64}} NOT NULL,
  amount {{.int64}} NOT NULL,
  code   TEXT NOT NULL,
  at     {{.int64}} NOT NULL,
  PRIMARY KEY (number, ref)
);
