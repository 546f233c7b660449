-- Rate limits that hold for the fleet: one GCRA state per budget key (a
-- partner, a customer within a partner, a platform's send budget), its
-- theoretical arrival time in Unix nanoseconds. Written and read only by
-- store/postgres/limit.go.
--
-- UNLOGGED: a decision writes no WAL and waits for no fsync, which keeps
-- the data API's two decisions per call cheap. The price is that a crash
-- of the server (not of an instance) empties the table, and a standby
-- never sees it: every budget starts full again, which is what a new key
-- gets anyway. A limit is never tighter than configured because of it.
-- fillfactor 50 leaves room on each page for the updates to stay HOT.
CREATE UNLOGGED TABLE rate_limits (
  key     text    PRIMARY KEY,
  tat     bigint  NOT NULL,
  allowed boolean NOT NULL
) WITH (fillfactor = 50);
