-- Payments recorded against the payment limits (package limits), one per
-- channel and idempotency key, from every channel and every instance.
-- limit_customers holds one row per customer that Record locks FOR UPDATE:
-- it serialises one customer's payments across the fleet while other
-- customers' go on in parallel.
CREATE TABLE limit_customers (
  customer bigint PRIMARY KEY
);
CREATE TABLE limit_uses (
  channel  text   NOT NULL,
  key      text   NOT NULL,
  customer bigint NOT NULL,
  payee    bigint NOT NULL,
  amount   bigint NOT NULL CHECK (amount > 0),
  currency text   NOT NULL,
  at       bigint NOT NULL, -- unix microseconds
  PRIMARY KEY (channel, key)
);
CREATE INDEX limit_uses_day ON limit_uses (customer, currency, at);
CREATE INDEX limit_uses_payee ON limit_uses (customer, payee, at);
