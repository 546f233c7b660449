-- Login throttling (identity.Guard), shared by every instance of a fleet.
-- login_failures is one row per failed login: the client address it came
-- from ('' if unknown) and when (Unix microseconds, UTC); rows older than a
-- day are purged. login_devices are the browsers that logged in to an
-- account before, by the SHA-256 of the token in their device cookie.
CREATE TABLE login_failures (
  client    text    NOT NULL,
  failed_at bigint NOT NULL
);
CREATE INDEX login_failures_at_idx ON login_failures(failed_at);
CREATE INDEX login_failures_client_idx ON login_failures(client, failed_at);

CREATE TABLE login_devices (
  token_hash   bytea   PRIMARY KEY,
  realm        text    NOT NULL CHECK (realm IN ('customer', 'staff')),
  principal_id bigint NOT NULL,
  failures     bigint NOT NULL DEFAULT 0,
  last_used    bigint NOT NULL
);
