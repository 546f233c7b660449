-- Password resets sent by e-mail (identity.Reset): keyed by the SHA-256 of
-- the token, which itself is never stored; single use (used_at), short-lived
-- (expires_at), bound to the address the link went to. Times are Unix
-- microseconds; 0 means never.
CREATE TABLE password_resets (
  token_hash   {{.bytes}}  PRIMARY KEY,
  realm        TEXT   NOT NULL CHECK (realm IN ('customer', 'staff')),
  principal_id {{.int64}} NOT NULL,
  email        TEXT   NOT NULL,
  created_at   {{.int64}} NOT NULL,
  expires_at   {{.int64}} NOT NULL,
  used_at      {{.int64}} NOT NULL DEFAULT 0
){{.without_rowid}};
CREATE INDEX password_resets_principal_idx ON password_resets(realm, principal_id, created_at);
