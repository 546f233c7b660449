-- The data API's records (package dataapi/records): payments partners
-- start, notification subscriptions with their outbox, and the monthly
-- performance counters published per partner. Times are Unix microseconds.
CREATE TABLE dataapi_payments (
  id                 TEXT    PRIMARY KEY,
  partner            TEXT    NOT NULL,
  grant_id           TEXT    NOT NULL,
  customer           INTEGER NOT NULL,
  from_account       INTEGER NOT NULL,
  to_account         INTEGER NOT NULL,
  to_ref             TEXT    NOT NULL,
  amount             INTEGER NOT NULL CHECK (amount > 0),
  currency           TEXT    NOT NULL,
  memo               TEXT    NOT NULL,
  idem_key           TEXT    NOT NULL,
  request_hash       BLOB    NOT NULL,
  status             TEXT    NOT NULL,
  needs_confirmation INTEGER NOT NULL,
  reason             TEXT    NOT NULL,
  transfer_id        INTEGER NOT NULL,
  created            INTEGER NOT NULL,
  updated            INTEGER NOT NULL,
  confirm_by         INTEGER NOT NULL,
  CONSTRAINT dataapi_payments_key UNIQUE (partner, idem_key)
);
CREATE INDEX dataapi_payments_customer ON dataapi_payments (customer, created);
CREATE INDEX dataapi_payments_pending ON dataapi_payments (confirm_by) WHERE status = 'PENDING' AND needs_confirmation = 1;

CREATE TABLE dataapi_subscriptions (
  id           TEXT    PRIMARY KEY,
  partner      TEXT    NOT NULL,
  callback_url TEXT    NOT NULL,
  secret       BLOB    NOT NULL,
  created      INTEGER NOT NULL
);
CREATE INDEX dataapi_subscriptions_partner ON dataapi_subscriptions (partner, created);

CREATE TABLE dataapi_outbox (
  id           TEXT    PRIMARY KEY,
  subscription TEXT    NOT NULL REFERENCES dataapi_subscriptions (id) ON DELETE CASCADE,
  partner      TEXT    NOT NULL,
  type         TEXT    NOT NULL,
  body         BLOB    NOT NULL,
  status       TEXT    NOT NULL,
  attempts     INTEGER NOT NULL,
  next_at      INTEGER NOT NULL,
  last_error   TEXT    NOT NULL,
  created      INTEGER NOT NULL
);
CREATE INDEX dataapi_outbox_due ON dataapi_outbox (next_at) WHERE status = 'pending';
CREATE INDEX dataapi_outbox_subscription ON dataapi_outbox (subscription, created);

CREATE TABLE dataapi_performance (
  month     TEXT    NOT NULL,
  partner   TEXT    NOT NULL,
  bucket    INTEGER NOT NULL,
  responses INTEGER NOT NULL,
  proper    INTEGER NOT NULL,
  PRIMARY KEY (month, partner, bucket)
);
