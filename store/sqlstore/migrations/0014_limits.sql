-- Payments recorded against the payment limits (package limits), one per
-- channel and idempotency key, from every channel and every instance.
{{if .postgres}}
-- limit_customers holds one row per customer that Record locks FOR UPDATE:
-- it serialises one customer's payments across the fleet while other
-- customers' go on in parallel. SQLite's single writer serialises every
-- Record already (Dialect.rowLocks).
CREATE TABLE limit_customers (
  customer bigint PRIMARY KEY
);
{{end}}
CREATE TABLE limit_uses (
  channel  TEXT       NOT NULL,
  key      TEXT       NOT NULL,
  customer {{.int64}} NOT NULL,
  payee    {{.int64}} NOT NULL,
  amount   {{.int64}} NOT NULL CHECK (amount > 0),
  currency TEXT       NOT NULL,
  at       {{.int64}} NOT NULL, -- unix microseconds
  PRIMARY KEY (channel, key)
);
CREATE INDEX limit_uses_day ON limit_uses (customer, currency, at);
CREATE INDEX limit_uses_payee ON limit_uses (customer, payee, at);
