-- Ledger: accounts, transfers, postings, and the reference data around them.
-- Times are Unix microseconds (UTC) in both engines; money is 64-bit integer minor units.
CREATE TABLE accounts (
  id          {{.serial}} PRIMARY KEY,
  customer_id {{.int64}}  NOT NULL DEFAULT 0,
  kind        TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  currency    TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  number      TEXT    NOT NULL,
  routing     TEXT    NOT NULL,
  limit_minor {{.int64}}  NOT NULL DEFAULT 0 CHECK (limit_minor >= 0),
  unbounded   {{.bool}} NOT NULL DEFAULT {{.false}},
  balance     {{.int64}}  NOT NULL DEFAULT 0,
  held        {{.int64}}  NOT NULL DEFAULT 0 CHECK (held >= 0),
  opened_at   {{.int64}}  NOT NULL,
  CONSTRAINT accounts_number_key UNIQUE (number),
  CONSTRAINT accounts_within_limit CHECK (unbounded OR balance - held >= -limit_minor)
);
CREATE INDEX accounts_customer_idx ON accounts(customer_id);

{{if .postgres}}CREATE SEQUENCE transfers_id_seq;
{{end}}CREATE TABLE transfers (
  id           {{.int64}}  PRIMARY KEY,
  client       TEXT    NOT NULL,
  idem_key     TEXT    NOT NULL,
  request_hash {{.bytes}}   NOT NULL,
  currency     TEXT    NOT NULL,
  amount       {{.int64}}  NOT NULL,
  description  TEXT    NOT NULL,
  merchant_id  {{.int64}}  NOT NULL DEFAULT 0,
  category     TEXT    NOT NULL DEFAULT '',
  status       TEXT    NOT NULL,
  created_at   {{.int64}}  NOT NULL,
  posted_at    {{.int64}}  NOT NULL DEFAULT 0,
  voided_at    {{.int64}}  NOT NULL DEFAULT 0,
  CONSTRAINT transfers_client_key UNIQUE (client, idem_key)
);

CREATE TABLE postings (
  account_id  {{.int64}} NOT NULL,
  at          {{.int64}} NOT NULL,
  transfer_id {{.int64}} NOT NULL,
  amount      {{.int64}} NOT NULL,
  PRIMARY KEY (account_id, at, transfer_id)
){{.without_rowid}};
CREATE INDEX postings_transfer_idx ON postings(transfer_id);

CREATE TABLE merchants (
  id       {{.serial}} PRIMARY KEY,
  name     TEXT NOT NULL,
  mcc      TEXT NOT NULL,
  category TEXT NOT NULL,
  city     TEXT NOT NULL DEFAULT '',
  country  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE cards (
  id          {{.serial}} PRIMARY KEY,
  account_id  {{.int64}} NOT NULL REFERENCES accounts(id),
  customer_id {{.int64}} NOT NULL,
  last4       TEXT   NOT NULL,
  network     TEXT   NOT NULL,
  status      TEXT   NOT NULL,
  created_at  {{.int64}} NOT NULL
);
CREATE INDEX cards_customer_idx ON cards(customer_id);

CREATE TABLE payees (
  id          {{.serial}} PRIMARY KEY,
  customer_id {{.int64}} NOT NULL,
  name        TEXT   NOT NULL,
  nickname    TEXT   NOT NULL,
  account_id  {{.int64}} NOT NULL DEFAULT 0,
  routing     TEXT   NOT NULL DEFAULT '',
  number      TEXT   NOT NULL DEFAULT '',
  created_at  {{.int64}} NOT NULL,
  CONSTRAINT payees_customer_nickname UNIQUE (customer_id, nickname)
);
