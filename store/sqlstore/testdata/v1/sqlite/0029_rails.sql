-- Payments over the rails (package rails): the rail details of external
-- payees (the payees themselves stay in the ledger's payees table), outbound
-- payments, NACHA files sent and received, and inbound entries.
CREATE TABLE rail_payees (
  payee_id     INTEGER PRIMARY KEY,
  account_type TEXT NOT NULL,
  status       TEXT NOT NULL,
  detail       TEXT NOT NULL DEFAULT '',
  updated_at   INTEGER NOT NULL
);

CREATE TABLE rail_files (
  id           INTEGER PRIMARY KEY,
  direction    TEXT NOT NULL,
  name         TEXT NOT NULL,
  body         BLOB NOT NULL,
  hash         BLOB NOT NULL,
  status       TEXT NOT NULL,
  entries      INTEGER NOT NULL DEFAULT 0,
  total        INTEGER NOT NULL DEFAULT 0,
  error        TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  sent_at      INTEGER NOT NULL DEFAULT 0,
  confirmed_at INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT rail_files_name UNIQUE (direction, name)
);
CREATE INDEX rail_files_status ON rail_files (direction, status);

CREATE TABLE rail_payments (
  id           INTEGER PRIMARY KEY,
  customer_id  INTEGER NOT NULL,
  payee_id     INTEGER NOT NULL,
  kind         TEXT NOT NULL,
  channel      TEXT NOT NULL,
  idem_key     TEXT NOT NULL,
  from_account INTEGER NOT NULL DEFAULT 0,
  amount       INTEGER NOT NULL CHECK (amount >= 0),
  currency     TEXT NOT NULL,
  name         TEXT NOT NULL,
  routing      TEXT NOT NULL,
  number       TEXT NOT NULL,
  account_type TEXT NOT NULL,
  memo         TEXT NOT NULL DEFAULT '',
  same_day     INTEGER NOT NULL DEFAULT 0,
  effective    INTEGER NOT NULL,
  status       TEXT NOT NULL,
  hold_id      INTEGER NOT NULL DEFAULT 0,
  reversal_id  INTEGER NOT NULL DEFAULT 0,
  file_id      INTEGER NOT NULL DEFAULT 0,
  trace        TEXT NOT NULL DEFAULT '',
  return_code  TEXT NOT NULL DEFAULT '',
  reason       TEXT NOT NULL DEFAULT '',
  screen       TEXT NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  CONSTRAINT rail_payments_key UNIQUE (customer_id, channel, idem_key)
);
CREATE INDEX rail_payments_customer ON rail_payments (customer_id, id);
CREATE INDEX rail_payments_status ON rail_payments (status, id);
CREATE INDEX rail_payments_file ON rail_payments (file_id);
CREATE INDEX rail_payments_trace ON rail_payments (trace);

CREATE TABLE rail_entries (
  file_id     INTEGER NOT NULL,
  trace       TEXT NOT NULL,
  kind        TEXT NOT NULL,
  status      TEXT NOT NULL,
  customer_id INTEGER NOT NULL DEFAULT 0,
  account_id  INTEGER NOT NULL DEFAULT 0,
  payment_id  INTEGER NOT NULL DEFAULT 0,
  amount      INTEGER NOT NULL DEFAULT 0,
  code        TEXT NOT NULL DEFAULT '',
  name        TEXT NOT NULL DEFAULT '',
  transfer_id INTEGER NOT NULL DEFAULT 0,
  detail      TEXT NOT NULL DEFAULT '',
  at          INTEGER NOT NULL,
  PRIMARY KEY (file_id, trace, kind)
);
CREATE INDEX rail_entries_customer ON rail_entries (customer_id, at);
