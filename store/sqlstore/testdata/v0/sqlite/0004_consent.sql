-- Consent: partners and their history, customers' consents, and the
-- authorization server's working records. Times are Unix microseconds (UTC);
-- 0 means "never". Lists and maps are JSON text, written and read only by
-- store/sqlite/consent.go.
CREATE TABLE partners (
  id               TEXT    PRIMARY KEY,
  legal_name       TEXT    NOT NULL,
  lei              TEXT    NOT NULL,
  homepage         TEXT    NOT NULL,
  security_contact TEXT    NOT NULL,
  redirect_uris    TEXT    NOT NULL,          -- JSON array, compared exactly
  jwks             TEXT    NOT NULL DEFAULT '',
  jwks_uri         TEXT    NOT NULL DEFAULT '',
  jwks_uri_allowed INTEGER NOT NULL DEFAULT 0,
  purposes         TEXT    NOT NULL,          -- JSON object: cluster -> purpose
  attested         INTEGER NOT NULL CHECK (attested = 1),
  attest_signatory TEXT    NOT NULL,
  attested_at      INTEGER NOT NULL,
  rate_limit       INTEGER NOT NULL,
  status           TEXT    NOT NULL CHECK (status IN ('active', 'suspended', 'refused')),
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
);

-- Every registration, suspension, reinstatement and refusal, with its reason.
CREATE TABLE partner_events (
  id         INTEGER PRIMARY KEY,
  partner_id TEXT    NOT NULL REFERENCES partners(id),
  action     TEXT    NOT NULL,
  reason     TEXT    NOT NULL,
  by_whom    TEXT    NOT NULL,
  at         INTEGER NOT NULL
);
CREATE INDEX partner_events_partner_idx ON partner_events(partner_id, id);

CREATE TABLE consents (
  id            TEXT    PRIMARY KEY,
  customer_id   INTEGER NOT NULL REFERENCES customers(id),
  partner_id    TEXT    NOT NULL REFERENCES partners(id),
  resources     TEXT    NOT NULL,             -- JSON: [{"account":1,"clusters":["BALANCES"]}]
  purposes      TEXT    NOT NULL,             -- JSON object, as shown to the customer
  duration_type TEXT    NOT NULL,
  duration_days INTEGER NOT NULL CHECK (duration_days BETWEEN 1 AND 365),
  lookback_days INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  status        TEXT    NOT NULL CHECK (status IN ('ACTIVE', 'REVOKED', 'EXPIRED')),
  revoked_by    TEXT    NOT NULL DEFAULT '',
  revoke_reason TEXT    NOT NULL DEFAULT '',
  last_used     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX consents_customer_idx ON consents(customer_id, created_at);
CREATE INDEX consents_partner_idx ON consents(partner_id, created_at);
CREATE INDEX consents_due_idx ON consents(expires_at) WHERE status = 'ACTIVE';

-- Pushed authorization requests (RFC 9126), minutes long.
CREATE TABLE oauth_requests (
  id             TEXT    PRIMARY KEY,
  partner_id     TEXT    NOT NULL REFERENCES partners(id),
  redirect_uri   TEXT    NOT NULL,
  state          TEXT    NOT NULL,
  code_challenge TEXT    NOT NULL,
  dpop_jkt       TEXT    NOT NULL DEFAULT '',
  clusters       TEXT    NOT NULL,            -- JSON array
  duration_days  INTEGER NOT NULL,
  lookback_days  INTEGER NOT NULL,
  created_at     INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL
);
CREATE INDEX oauth_requests_expires_idx ON oauth_requests(expires_at);

-- Authorization codes by SHA-256; used_at marks the one redemption.
CREATE TABLE oauth_codes (
  hash           BLOB    PRIMARY KEY,
  consent_id     TEXT    NOT NULL REFERENCES consents(id),
  partner_id     TEXT    NOT NULL,
  redirect_uri   TEXT    NOT NULL,
  code_challenge TEXT    NOT NULL,
  dpop_jkt       TEXT    NOT NULL DEFAULT '',
  expires_at     INTEGER NOT NULL,
  used_at        INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX oauth_codes_expires_idx ON oauth_codes(expires_at);

-- Refresh tokens by SHA-256, bound to a DPoP key thumbprint and a consent.
CREATE TABLE oauth_refresh_tokens (
  hash       BLOB    PRIMARY KEY,
  consent_id TEXT    NOT NULL REFERENCES consents(id),
  partner_id TEXT    NOT NULL,
  jkt        TEXT    NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX oauth_refresh_tokens_consent_idx ON oauth_refresh_tokens(consent_id);

-- JWT ids already seen (client assertions, DPoP proofs), until they expire.
CREATE TABLE oauth_jtis (
  key        TEXT    PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX oauth_jtis_expires_idx ON oauth_jtis(expires_at);

-- The authorization server's signing key(s), private JWK JSON.
CREATE TABLE oauth_keys (
  name       TEXT    PRIMARY KEY,
  jwk        TEXT    NOT NULL,
  created_at INTEGER NOT NULL
);
