-- Ledger: accounts, transfers, postings, and the reference data around them.
-- Times are Unix microseconds (UTC) in both engines; money is INTEGER minor units.
CREATE TABLE accounts (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL DEFAULT 0,
  kind        TEXT    NOT NULL,
  name        TEXT    NOT NULL,
  currency    TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  number      TEXT    NOT NULL,
  routing     TEXT    NOT NULL,
  limit_minor INTEGER NOT NULL DEFAULT 0 CHECK (limit_minor >= 0),
  unbounded   INTEGER NOT NULL DEFAULT 0,
  balance     INTEGER NOT NULL DEFAULT 0,
  held        INTEGER NOT NULL DEFAULT 0 CHECK (held >= 0),
  opened_at   INTEGER NOT NULL,
  CONSTRAINT accounts_number_key UNIQUE (number),
  CONSTRAINT accounts_within_limit CHECK (unbounded OR balance - held >= -limit_minor)
);
CREATE INDEX accounts_customer_idx ON accounts(customer_id);

CREATE TABLE transfers (
  id           INTEGER PRIMARY KEY,
  client       TEXT    NOT NULL,
  idem_key     TEXT    NOT NULL,
  request_hash BLOB    NOT NULL,
  currency     TEXT    NOT NULL,
  amount       INTEGER NOT NULL,
  description  TEXT    NOT NULL,
  merchant_id  INTEGER NOT NULL DEFAULT 0,
  category     TEXT    NOT NULL DEFAULT '',
  status       TEXT    NOT NULL,
  created_at   INTEGER NOT NULL,
  posted_at    INTEGER NOT NULL DEFAULT 0,
  voided_at    INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT transfers_client_key UNIQUE (client, idem_key)
);

-- Clustered by (account, time, transfer) so an account's history is one range scan.
CREATE TABLE postings (
  account_id  INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  transfer_id INTEGER NOT NULL,
  amount      INTEGER NOT NULL,
  PRIMARY KEY (account_id, at, transfer_id)
) WITHOUT ROWID;
CREATE INDEX postings_transfer_idx ON postings(transfer_id);

CREATE TABLE merchants (
  id       INTEGER PRIMARY KEY,
  name     TEXT NOT NULL,
  mcc      TEXT NOT NULL,
  category TEXT NOT NULL,
  city     TEXT NOT NULL DEFAULT '',
  country  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE cards (
  id          INTEGER PRIMARY KEY,
  account_id  INTEGER NOT NULL REFERENCES accounts(id),
  customer_id INTEGER NOT NULL,
  last4       TEXT    NOT NULL,
  network     TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  created_at  INTEGER NOT NULL
);
CREATE INDEX cards_customer_idx ON cards(customer_id);

CREATE TABLE payees (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL,
  name        TEXT    NOT NULL,
  nickname    TEXT    NOT NULL,
  account_id  INTEGER NOT NULL DEFAULT 0,
  routing     TEXT    NOT NULL DEFAULT '',
  number      TEXT    NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  CONSTRAINT payees_customer_nickname UNIQUE (customer_id, nickname)
);
