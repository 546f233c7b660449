-- The deployment's identity: one row, written by the migration itself (under
-- the migration lock) so that every instance on this database reads the same
-- id without being configured. cluster is the default NATS namespace
-- (alerts/stream): "bb" and 16 hex digits of a random UUID, so two databases
-- never pick the same one.
CREATE TABLE deployment (
  id      integer PRIMARY KEY CHECK (id = 1),
  cluster text    NOT NULL
);
INSERT INTO deployment (id, cluster) VALUES (1, 'bb' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 16));
