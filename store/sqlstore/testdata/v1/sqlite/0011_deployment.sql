-- The deployment's identity: one row, written by the migration itself so
-- that every instance on this database reads the same id without being
-- configured (the first to migrate generates it; the others find it).
-- cluster is the default NATS namespace (alerts/stream): "bb" and 16 hex
-- digits, 64 random bits, so two databases never pick the same one.
CREATE TABLE deployment (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  cluster TEXT    NOT NULL
);
INSERT INTO deployment (id, cluster) VALUES (1, 'bb' || lower(hex(randomblob(8))));
