-- Alerts: the ledger's outbox (ledger_events, written by LedgerStore.Apply in
-- the batch's own transaction) and what the alerts capability keeps: its
-- cursors over the outbox, customers' settings and spending profiles,
-- trusted merchants, alerts (the notification centre), their deliveries to
-- each channel (with retries and dead letters) and fraud cases for staff.
-- Times are Unix microseconds (UTC); 0 means "never".
CREATE TABLE ledger_events (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, grows in commit order (one writer)
  transfer_id INTEGER NOT NULL,
  status      TEXT    NOT NULL,
  settles     INTEGER NOT NULL DEFAULT 0,
  currency    TEXT    NOT NULL,
  postings    TEXT    NOT NULL,                   -- "account:amount,..." (ledger.EncodePostings)
  merchant_id INTEGER NOT NULL DEFAULT 0,
  category    TEXT    NOT NULL DEFAULT '',
  description TEXT    NOT NULL DEFAULT '',
  at          INTEGER NOT NULL
);

CREATE TABLE alert_cursors (
  name       TEXT    PRIMARY KEY,
  seq        INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE alert_settings (
  customer_id    INTEGER PRIMARY KEY,
  privacy        TEXT    NOT NULL CHECK (privacy IN ('full', 'minimal', 'off')),
  large_debit    INTEGER NOT NULL,
  low_balance    INTEGER NOT NULL,
  card_purchases INTEGER NOT NULL,
  deposits       INTEGER NOT NULL,
  payments       INTEGER NOT NULL,
  email          TEXT    NOT NULL DEFAULT '',
  updated_at     INTEGER NOT NULL
);

CREATE TABLE alert_profiles (
  customer_id INTEGER PRIMARY KEY,
  body        TEXT    NOT NULL,                   -- JSON of alerts.Profile
  updated_at  INTEGER NOT NULL
);

CREATE TABLE alert_trusted (
  customer_id INTEGER NOT NULL,
  merchant_id INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  PRIMARY KEY (customer_id, merchant_id)
);

CREATE TABLE alerts (
  id          TEXT    PRIMARY KEY,                -- deterministic from (seq, rule, customer)
  seq         INTEGER NOT NULL,
  customer_id INTEGER NOT NULL,
  rule        TEXT    NOT NULL,
  transfer_id INTEGER NOT NULL,
  account_id  INTEGER NOT NULL DEFAULT 0,
  merchant_id INTEGER NOT NULL DEFAULT 0,
  amount      INTEGER NOT NULL DEFAULT 0,
  currency    TEXT    NOT NULL DEFAULT '',
  title       TEXT    NOT NULL,
  body        TEXT    NOT NULL,
  ask         INTEGER NOT NULL DEFAULT 0,
  answer      TEXT    NOT NULL DEFAULT '' CHECK (answer IN ('', 'yes', 'no')),
  answered_at INTEGER NOT NULL DEFAULT 0,
  read_at     INTEGER NOT NULL DEFAULT 0,
  created_at  INTEGER NOT NULL
);
CREATE INDEX alerts_customer_idx ON alerts(customer_id, created_at);

CREATE TABLE alert_deliveries (
  id           TEXT    PRIMARY KEY,               -- alert id + "." + channel: one per (event, rule, channel)
  alert_id     TEXT    NOT NULL,
  customer_id  INTEGER NOT NULL,
  channel      TEXT    NOT NULL,
  rule         TEXT    NOT NULL,
  full_text    INTEGER NOT NULL DEFAULT 0,                  -- privacy full: account details leave the bank
  title        TEXT    NOT NULL,
  body         TEXT    NOT NULL,
  ask          INTEGER NOT NULL DEFAULT 0,
  status       TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts     INTEGER NOT NULL DEFAULT 0,
  next_at      INTEGER NOT NULL,
  last_error   TEXT    NOT NULL DEFAULT '',
  created_at   INTEGER NOT NULL,
  done_at      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries(status, next_at);

CREATE TABLE fraud_cases (
  id          INTEGER PRIMARY KEY,
  alert_id    TEXT    NOT NULL UNIQUE,
  customer_id INTEGER NOT NULL,
  card_id     INTEGER NOT NULL DEFAULT 0,
  transfer_id INTEGER NOT NULL,
  merchant_id INTEGER NOT NULL DEFAULT 0,
  amount      INTEGER NOT NULL DEFAULT 0,
  currency    TEXT    NOT NULL DEFAULT '',
  status      TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
  note        TEXT    NOT NULL DEFAULT '',
  opened_at   INTEGER NOT NULL,
  closed_at   INTEGER NOT NULL DEFAULT 0,
  closed_by   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX fraud_cases_status_idx ON fraud_cases(status, opened_at);
