-- Payments recorded against the payment limits (package limits), one per
-- channel and idempotency key, from every channel. The 24-hour totals and a
-- payee's first payment are read from here, under the writer (which
-- serialises every Record), so they hold for the whole bank.
CREATE TABLE limit_uses (
  channel  TEXT    NOT NULL,
  key      TEXT    NOT NULL,
  customer INTEGER NOT NULL,
  payee    INTEGER NOT NULL,
  amount   INTEGER NOT NULL CHECK (amount > 0),
  currency TEXT    NOT NULL,
  at       INTEGER NOT NULL, -- unix microseconds
  PRIMARY KEY (channel, key)
);
CREATE INDEX limit_uses_day ON limit_uses (customer, currency, at);
CREATE INDEX limit_uses_payee ON limit_uses (customer, payee, at);
