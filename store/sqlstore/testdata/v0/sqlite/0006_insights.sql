-- Insights: engagement rollups. Raw events are not kept: each batch is
-- folded into these tables in one transaction (insights/fold.go says how).
-- Days are UTC days since 1970-01-01; bands and products are small codes
-- (insights.Band, insights.Products).
CREATE TABLE insights_facets (
  id      INTEGER PRIMARY KEY,
  metric  TEXT NOT NULL,
  channel TEXT NOT NULL,
  detail  TEXT NOT NULL,
  CONSTRAINT insights_facets_key UNIQUE (metric, channel, detail)
);

-- One row per customer per facet: the days they were in it, as a bit set.
-- k = customer << 16 | facet.
CREATE TABLE insights_spans (
  k         INTEGER PRIMARY KEY,
  origin    INTEGER NOT NULL,
  first_day INTEGER NOT NULL,
  last_day  INTEGER NOT NULL,
  band      INTEGER NOT NULL,
  products  INTEGER NOT NULL,
  days      BLOB    NOT NULL
);

-- The daily activity table: one customer on one channel on one day.
CREATE TABLE insights_activity (
  day             INTEGER NOT NULL,
  customer        INTEGER NOT NULL,
  channel         TEXT    NOT NULL,
  band            INTEGER NOT NULL,
  products        INTEGER NOT NULL,
  sessions        INTEGER NOT NULL,
  actions         INTEGER NOT NULL,
  intents         INTEGER NOT NULL,
  payments        INTEGER NOT NULL,
  alerts_sent     INTEGER NOT NULL,
  alerts_opened   INTEGER NOT NULL,
  alerts_answered INTEGER NOT NULL,
  payment_value   INTEGER NOT NULL,
  PRIMARY KEY (day, customer, channel)
) WITHOUT ROWID;

-- Per facet, day and segment: customers that day, events, amounts.
CREATE TABLE insights_daily (
  facet     INTEGER NOT NULL,
  day       INTEGER NOT NULL,
  band      INTEGER NOT NULL,
  products  INTEGER NOT NULL,
  customers INTEGER NOT NULL,
  events    INTEGER NOT NULL,
  amount    INTEGER NOT NULL,
  PRIMARY KEY (facet, day, band, products)
) WITHOUT ROWID;

-- Per facet, window length, day and segment: the change in the number of
-- customers seen in the window ending that day.
CREATE TABLE insights_window (
  facet    INTEGER NOT NULL,
  w        INTEGER NOT NULL,
  day      INTEGER NOT NULL,
  band     INTEGER NOT NULL,
  products INTEGER NOT NULL,
  delta    INTEGER NOT NULL,
  PRIMARY KEY (facet, w, day, band, products)
) WITHOUT ROWID;

-- Per facet, cohort (Monday of the first week), weeks since, segment on
-- the first day: customers active.
CREATE TABLE insights_cohorts (
  facet       INTEGER NOT NULL,
  cohort      INTEGER NOT NULL,
  week_offset INTEGER NOT NULL,
  band        INTEGER NOT NULL,
  products    INTEGER NOT NULL,
  customers   INTEGER NOT NULL,
  PRIMARY KEY (facet, cohort, week_offset, band, products)
) WITHOUT ROWID;
