-- Password resets sent by e-mail (identity.Reset): keyed by the SHA-256 of
-- the token, which itself is never stored; single use (used_at), short-lived
-- (expires_at), bound to the address the link went to. Times are Unix
-- microseconds; 0 means never.
CREATE TABLE password_resets (
  token_hash   bytea  PRIMARY KEY,
  realm        TEXT   NOT NULL CHECK (realm IN ('customer', 'staff')),
  principal_id bigint NOT NULL,
  email        TEXT   NOT NULL,
  created_at   bigint NOT NULL,
  expires_at   bigint NOT NULL,
  used_at      bigint NOT NULL DEFAULT 0
);
CREATE INDEX password_resets_principal_idx ON password_resets(realm, principal_id, created_at);
