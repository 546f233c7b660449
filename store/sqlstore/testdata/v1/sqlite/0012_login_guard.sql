-- Login throttling (identity.Guard), shared by every instance of a fleet.
-- login_failures is one row per failed login: the client address it came
-- from ('' if unknown) and when (Unix microseconds, UTC); rows older than a
-- day are purged. login_devices are the browsers that logged in to an
-- account before, by the SHA-256 of the token in their device cookie.
CREATE TABLE login_failures (
  client    TEXT    NOT NULL,
  failed_at INTEGER NOT NULL
);
CREATE INDEX login_failures_at_idx ON login_failures(failed_at);
CREATE INDEX login_failures_client_idx ON login_failures(client, failed_at);

CREATE TABLE login_devices (
  token_hash   BLOB   PRIMARY KEY,
  realm        TEXT    NOT NULL CHECK (realm IN ('customer', 'staff')),
  principal_id INTEGER NOT NULL,
  failures     INTEGER NOT NULL DEFAULT 0,
  last_used    INTEGER NOT NULL
);
