-- Scheduled and recurring payments (package scheduled): standing orders and
-- one row per occurrence. The occurrence's primary key (order_id, seq) is
-- what makes a claim happen once across the fleet; the claim also moves the
-- order on, conditional on its runs count, in the same transaction. Dates
-- and times are Unix microseconds; 0 means none.
CREATE TABLE scheduled_orders (
  id           {{.serial}} PRIMARY KEY,
  customer_id  {{.int64}} NOT NULL,
  from_account {{.int64}} NOT NULL,
  to_account   {{.int64}} NOT NULL DEFAULT 0,
  payee_id     {{.int64}} NOT NULL DEFAULT 0,
  rail         {{.int16}} NOT NULL DEFAULT 0,
  label        TEXT NOT NULL,
  amount       {{.int64}} NOT NULL CHECK (amount > 0),
  currency     TEXT NOT NULL,
  memo         TEXT NOT NULL DEFAULT '',
  every        TEXT NOT NULL CHECK (every IN ('once', 'weekly', 'monthly')),
  start_on     {{.int64}} NOT NULL,
  until_on     {{.int64}} NOT NULL DEFAULT 0,
  max_runs     {{.int64}} NOT NULL DEFAULT 0,
  runs         {{.int64}} NOT NULL DEFAULT 0,
  next_on      {{.int64}} NOT NULL DEFAULT 0,
  status       TEXT NOT NULL CHECK (status IN ('active', 'cancelled', 'finished')),
  created_at   {{.int64}} NOT NULL,
  updated_at   {{.int64}} NOT NULL
);
CREATE INDEX scheduled_orders_due ON scheduled_orders (status, next_on);
CREATE INDEX scheduled_orders_customer ON scheduled_orders (customer_id);

CREATE TABLE scheduled_runs (
  order_id    {{.int64}} NOT NULL,
  seq         {{.int64}} NOT NULL,
  customer_id {{.int64}} NOT NULL,
  run_on      {{.int64}} NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('claimed', 'paid', 'refused', 'missed', 'skipped')),
  reason      TEXT NOT NULL DEFAULT '',
  ref         TEXT NOT NULL DEFAULT '',
  run_at      {{.int64}} NOT NULL,
  PRIMARY KEY (order_id, seq)
);
CREATE INDEX scheduled_runs_claimed ON scheduled_runs (status, run_at);
