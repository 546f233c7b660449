-- The deployment's identity: one row, written by the migration itself (under
-- the migration lock) so that every instance on this database reads the same
-- id without being configured: the first to migrate generates it, the others
-- find it. cluster is the default NATS namespace (alerts/stream): "bb" and 16
-- hex digits, 64 random bits, so two databases never pick the same one. Only
-- the random source differs between the engines.
CREATE TABLE deployment (
  id      {{.int32}} PRIMARY KEY CHECK (id = 1),
  cluster TEXT       NOT NULL
);
{{if .postgres}}INSERT INTO deployment (id, cluster) VALUES (1, 'bb' || substr(replace(gen_random_uuid()::text, '-', ''), 1, 16));{{end}}
{{- if .sqlite}}INSERT INTO deployment (id, cluster) VALUES (1, 'bb' || lower(hex(randomblob(8))));{{end}}
