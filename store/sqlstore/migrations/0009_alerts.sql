-- Alerts: the ledger's outbox (ledger_events, written by LedgerStore.Apply in
-- the batch's own transaction) and what the alerts capability keeps: its
-- cursors over the outbox, customers' settings and spending profiles,
-- trusted merchants, alerts (the notification centre), their deliveries to
-- each channel (with retries and dead letters) and fraud cases for staff.
-- Times are Unix microseconds (UTC); 0 means "never".
{{if .postgres}}CREATE SEQUENCE ledger_events_seq;
{{end}}CREATE TABLE ledger_events (
  -- PostgreSQL: nextval(ledger_events_seq) under an advisory lock, so commit order;
  -- SQLite: AUTOINCREMENT, never reused, grows in commit order (one writer).
  seq         {{if .postgres}}{{.int64}}  PRIMARY KEY{{else}}INTEGER PRIMARY KEY AUTOINCREMENT{{end}},
  transfer_id {{.int64}}  NOT NULL,
  status      TEXT    NOT NULL,
  settles     {{.bool}} NOT NULL DEFAULT {{.false}},
  currency    TEXT    NOT NULL,
  postings    TEXT    NOT NULL,                   -- "account:amount,..." (ledger.EncodePostings)
  merchant_id {{.int64}}  NOT NULL DEFAULT 0,
  category    TEXT    NOT NULL DEFAULT '',
  description TEXT    NOT NULL DEFAULT '',
  at          {{.int64}}  NOT NULL
);

CREATE TABLE alert_cursors (
  name       TEXT    PRIMARY KEY,
  seq        {{.int64}}  NOT NULL,
  updated_at {{.int64}}  NOT NULL
);

CREATE TABLE alert_settings (
  customer_id    {{.int64}}  PRIMARY KEY,
  privacy        TEXT    NOT NULL CHECK (privacy IN ('full', 'minimal', 'off')),
  large_debit    {{.int64}}  NOT NULL,
  low_balance    {{.int64}}  NOT NULL,
  card_purchases {{.bool}} NOT NULL,
  deposits       {{.bool}} NOT NULL,
  payments       {{.bool}} NOT NULL,
  email          TEXT    NOT NULL DEFAULT '',
  updated_at     {{.int64}}  NOT NULL
);

CREATE TABLE alert_profiles (
  customer_id {{.int64}}  PRIMARY KEY,
  body        TEXT    NOT NULL,                   -- JSON of alerts.Profile
  updated_at  {{.int64}}  NOT NULL
);

CREATE TABLE alert_trusted (
  customer_id {{.int64}}  NOT NULL,
  merchant_id {{.int64}}  NOT NULL,
  at          {{.int64}}  NOT NULL,
  PRIMARY KEY (customer_id, merchant_id)
);

CREATE TABLE alerts (
  id          TEXT    PRIMARY KEY,                -- deterministic from (seq, rule, customer)
  seq         {{.int64}}  NOT NULL,
  customer_id {{.int64}}  NOT NULL,
  rule        TEXT    NOT NULL,
  transfer_id {{.int64}}  NOT NULL,
  account_id  {{.int64}}  NOT NULL DEFAULT 0,
  merchant_id {{.int64}}  NOT NULL DEFAULT 0,
  amount      {{.int64}}  NOT NULL DEFAULT 0,
  currency    TEXT    NOT NULL DEFAULT '',
  title       TEXT    NOT NULL,
  body        TEXT    NOT NULL,
  ask         {{.bool}} NOT NULL DEFAULT {{.false}},
  answer      TEXT    NOT NULL DEFAULT '' CHECK (answer IN ('', 'yes', 'no')),
  answered_at {{.int64}}  NOT NULL DEFAULT 0,
  read_at     {{.int64}}  NOT NULL DEFAULT 0,
  created_at  {{.int64}}  NOT NULL
);
CREATE INDEX alerts_customer_idx ON alerts(customer_id, created_at);

CREATE TABLE alert_deliveries (
  id           TEXT    PRIMARY KEY,               -- alert id + "." + channel: one per (event, rule, channel)
  alert_id     TEXT    NOT NULL,
  customer_id  {{.int64}}  NOT NULL,
  channel      TEXT    NOT NULL,
  rule         TEXT    NOT NULL,
  full_text    {{.bool}} NOT NULL DEFAULT {{.false}},                  -- privacy full: account details leave the bank
  title        TEXT    NOT NULL,
  body         TEXT    NOT NULL,
  ask          {{.bool}} NOT NULL DEFAULT {{.false}},
  status       TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts     {{.int64}}  NOT NULL DEFAULT 0,
  next_at      {{.int64}}  NOT NULL,
  last_error   TEXT    NOT NULL DEFAULT '',
  created_at   {{.int64}}  NOT NULL,
  done_at      {{.int64}}  NOT NULL DEFAULT 0
);
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries(status, next_at);

CREATE TABLE fraud_cases (
  id          {{.serial}} PRIMARY KEY,
  alert_id    TEXT    NOT NULL UNIQUE,
  customer_id {{.int64}}  NOT NULL,
  card_id     {{.int64}}  NOT NULL DEFAULT 0,
  transfer_id {{.int64}}  NOT NULL,
  merchant_id {{.int64}}  NOT NULL DEFAULT 0,
  amount      {{.int64}}  NOT NULL DEFAULT 0,
  currency    TEXT    NOT NULL DEFAULT '',
  status      TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
  note        TEXT    NOT NULL DEFAULT '',
  opened_at   {{.int64}}  NOT NULL,
  closed_at   {{.int64}}  NOT NULL DEFAULT 0,
  closed_by   {{.int64}}  NOT NULL DEFAULT 0
);
CREATE INDEX fraud_cases_status_idx ON fraud_cases(status, opened_at);
