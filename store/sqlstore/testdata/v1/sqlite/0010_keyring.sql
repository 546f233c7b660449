-- The keyring (keyring.Store): the fleet's signing keys, each private key
-- sealed (AES-256-GCM) under a key-encryption key that is NOT in the
-- database, so database access alone can neither sign nor add a key that
-- verifies. Keys are never deleted; retired_at 0 means in use. Times are
-- Unix microseconds (UTC).
CREATE TABLE keyring_keys (
  name         TEXT    NOT NULL,             -- audit, oauth, messenger
  version      INTEGER NOT NULL,             -- 1 for the first key of a name
  kid          TEXT    NOT NULL,
  kek_id       TEXT    NOT NULL,             -- the KEK that sealed it
  sealed       BLOB    NOT NULL,             -- PKCS #8, sealed, aad "bankbridge key <name>/<kid>"
  public_key   BLOB    NOT NULL,             -- PKIX, for reading only
  created_at   INTEGER NOT NULL,
  activates_at INTEGER NOT NULL,
  retired_at   INTEGER NOT NULL DEFAULT 0,
  -- Two instances making a first key (or rotating) at once: one insert wins.
  CONSTRAINT keyring_keys_version PRIMARY KEY (name, version),
  CONSTRAINT keyring_keys_kid UNIQUE (name, kid)
);
