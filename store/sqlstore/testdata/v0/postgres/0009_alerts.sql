-- Alerts: the ledger's outbox (ledger_events, written by LedgerStore.Apply in
-- the batch's own transaction) and what the alerts capability keeps: its
-- cursors over the outbox, customers' settings and spending profiles,
-- trusted merchants, alerts (the notification centre), their deliveries to
-- each channel (with retries and dead letters) and fraud cases for staff.
-- Times are Unix microseconds (UTC); 0 means "never".
CREATE SEQUENCE ledger_events_seq;
CREATE TABLE ledger_events (
  seq         bigint  PRIMARY KEY,                  -- nextval(ledger_events_seq) under an advisory lock: commit order
  transfer_id bigint  NOT NULL,
  status      text    NOT NULL,
  settles     boolean NOT NULL DEFAULT false,
  currency    text    NOT NULL,
  postings    text    NOT NULL,                   -- "account:amount,..." (ledger.EncodePostings)
  merchant_id bigint  NOT NULL DEFAULT 0,
  category    text    NOT NULL DEFAULT '',
  description text    NOT NULL DEFAULT '',
  at          bigint  NOT NULL
);

CREATE TABLE alert_cursors (
  name       text    PRIMARY KEY,
  seq        bigint  NOT NULL,
  updated_at bigint  NOT NULL
);

CREATE TABLE alert_settings (
  customer_id    bigint  PRIMARY KEY,
  privacy        text    NOT NULL CHECK (privacy IN ('full', 'minimal', 'off')),
  large_debit    bigint  NOT NULL,
  low_balance    bigint  NOT NULL,
  card_purchases boolean NOT NULL,
  deposits       boolean NOT NULL,
  payments       boolean NOT NULL,
  email          text    NOT NULL DEFAULT '',
  updated_at     bigint  NOT NULL
);

CREATE TABLE alert_profiles (
  customer_id bigint  PRIMARY KEY,
  body        text    NOT NULL,                   -- JSON of alerts.Profile
  updated_at  bigint  NOT NULL
);

CREATE TABLE alert_trusted (
  customer_id bigint  NOT NULL,
  merchant_id bigint  NOT NULL,
  at          bigint  NOT NULL,
  PRIMARY KEY (customer_id, merchant_id)
);

CREATE TABLE alerts (
  id          text    PRIMARY KEY,                -- deterministic from (seq, rule, customer)
  seq         bigint  NOT NULL,
  customer_id bigint  NOT NULL,
  rule        text    NOT NULL,
  transfer_id bigint  NOT NULL,
  account_id  bigint  NOT NULL DEFAULT 0,
  merchant_id bigint  NOT NULL DEFAULT 0,
  amount      bigint  NOT NULL DEFAULT 0,
  currency    text    NOT NULL DEFAULT '',
  title       text    NOT NULL,
  body        text    NOT NULL,
  ask         boolean NOT NULL DEFAULT false,
  answer      text    NOT NULL DEFAULT '' CHECK (answer IN ('', 'yes', 'no')),
  answered_at bigint  NOT NULL DEFAULT 0,
  read_at     bigint  NOT NULL DEFAULT 0,
  created_at  bigint  NOT NULL
);
CREATE INDEX alerts_customer_idx ON alerts(customer_id, created_at);

CREATE TABLE alert_deliveries (
  id           text    PRIMARY KEY,               -- alert id + "." + channel: one per (event, rule, channel)
  alert_id     text    NOT NULL,
  customer_id  bigint  NOT NULL,
  channel      text    NOT NULL,
  rule         text    NOT NULL,
  full_text    boolean NOT NULL DEFAULT false,                  -- privacy full: account details leave the bank
  title        text    NOT NULL,
  body         text    NOT NULL,
  ask          boolean NOT NULL DEFAULT false,
  status       text    NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts     bigint  NOT NULL DEFAULT 0,
  next_at      bigint  NOT NULL,
  last_error   text    NOT NULL DEFAULT '',
  created_at   bigint  NOT NULL,
  done_at      bigint  NOT NULL DEFAULT 0
);
CREATE INDEX alert_deliveries_due_idx ON alert_deliveries(status, next_at);

CREATE TABLE fraud_cases (
  id          bigserial PRIMARY KEY,
  alert_id    text    NOT NULL UNIQUE,
  customer_id bigint  NOT NULL,
  card_id     bigint  NOT NULL DEFAULT 0,
  transfer_id bigint  NOT NULL,
  merchant_id bigint  NOT NULL DEFAULT 0,
  amount      bigint  NOT NULL DEFAULT 0,
  currency    text    NOT NULL DEFAULT '',
  status      text    NOT NULL CHECK (status IN ('open', 'closed')),
  note        text    NOT NULL DEFAULT '',
  opened_at   bigint  NOT NULL,
  closed_at   bigint  NOT NULL DEFAULT 0,
  closed_by   bigint  NOT NULL DEFAULT 0
);
CREATE INDEX fraud_cases_status_idx ON fraud_cases(status, opened_at);
