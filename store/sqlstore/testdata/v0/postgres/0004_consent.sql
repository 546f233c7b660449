-- Consent: partners and their history, customers' consents, and the
-- authorization server's working records. Times are Unix microseconds (UTC, bigint);
-- 0 means "never". Lists and maps are JSON text, written and read only by
-- store/postgres/consent.go.
CREATE TABLE partners (
  id               text    PRIMARY KEY,
  legal_name       text    NOT NULL,
  lei              text    NOT NULL,
  homepage         text    NOT NULL,
  security_contact text    NOT NULL,
  redirect_uris    text    NOT NULL,          -- JSON array, compared exactly
  jwks             text    NOT NULL DEFAULT '',
  jwks_uri         text    NOT NULL DEFAULT '',
  jwks_uri_allowed bigint  NOT NULL DEFAULT 0,
  purposes         text    NOT NULL,          -- JSON object: cluster -> purpose
  attested         bigint  NOT NULL CHECK (attested = 1),
  attest_signatory text    NOT NULL,
  attested_at      bigint  NOT NULL,
  rate_limit       bigint  NOT NULL,
  status           text    NOT NULL CHECK (status IN ('active', 'suspended', 'refused')),
  created_at       bigint  NOT NULL,
  updated_at       bigint  NOT NULL
);

-- Every registration, suspension, reinstatement and refusal, with its reason.
CREATE TABLE partner_events (
  id         bigserial PRIMARY KEY,
  partner_id text    NOT NULL REFERENCES partners(id),
  action     text    NOT NULL,
  reason     text    NOT NULL,
  by_whom    text    NOT NULL,
  at         bigint  NOT NULL
);
CREATE INDEX partner_events_partner_idx ON partner_events(partner_id, id);

CREATE TABLE consents (
  id            text    PRIMARY KEY,
  customer_id   bigint  NOT NULL REFERENCES customers(id),
  partner_id    text    NOT NULL REFERENCES partners(id),
  resources     text    NOT NULL,             -- JSON: [{"account":1,"clusters":["BALANCES"]}]
  purposes      text    NOT NULL,             -- JSON object, as shown to the customer
  duration_type text    NOT NULL,
  duration_days bigint  NOT NULL CHECK (duration_days BETWEEN 1 AND 365),
  lookback_days bigint  NOT NULL,
  created_at    bigint  NOT NULL,
  updated_at    bigint  NOT NULL,
  expires_at    bigint  NOT NULL,
  status        text    NOT NULL CHECK (status IN ('ACTIVE', 'REVOKED', 'EXPIRED')),
  revoked_by    text    NOT NULL DEFAULT '',
  revoke_reason text    NOT NULL DEFAULT '',
  last_used     bigint  NOT NULL DEFAULT 0
);
CREATE INDEX consents_customer_idx ON consents(customer_id, created_at);
CREATE INDEX consents_partner_idx ON consents(partner_id, created_at);
CREATE INDEX consents_due_idx ON consents(expires_at) WHERE status = 'ACTIVE';

-- Pushed authorization requests (RFC 9126), minutes long.
CREATE TABLE oauth_requests (
  id             text    PRIMARY KEY,
  partner_id     text    NOT NULL REFERENCES partners(id),
  redirect_uri   text    NOT NULL,
  state          text    NOT NULL,
  code_challenge text    NOT NULL,
  dpop_jkt       text    NOT NULL DEFAULT '',
  clusters       text    NOT NULL,            -- JSON array
  duration_days  bigint  NOT NULL,
  lookback_days  bigint  NOT NULL,
  created_at     bigint  NOT NULL,
  expires_at     bigint  NOT NULL
);
CREATE INDEX oauth_requests_expires_idx ON oauth_requests(expires_at);

-- Authorization codes by SHA-256; used_at marks the one redemption.
CREATE TABLE oauth_codes (
  hash           bytea   PRIMARY KEY,
  consent_id     text    NOT NULL REFERENCES consents(id),
  partner_id     text    NOT NULL,
  redirect_uri   text    NOT NULL,
  code_challenge text    NOT NULL,
  dpop_jkt       text    NOT NULL DEFAULT '',
  expires_at     bigint  NOT NULL,
  used_at        bigint  NOT NULL DEFAULT 0
);
CREATE INDEX oauth_codes_expires_idx ON oauth_codes(expires_at);

-- Refresh tokens by SHA-256, bound to a DPoP key thumbprint and a consent.
CREATE TABLE oauth_refresh_tokens (
  hash       bytea   PRIMARY KEY,
  consent_id text    NOT NULL REFERENCES consents(id),
  partner_id text    NOT NULL,
  jkt        text    NOT NULL,
  created_at bigint  NOT NULL
);
CREATE INDEX oauth_refresh_tokens_consent_idx ON oauth_refresh_tokens(consent_id);

-- JWT ids already seen (client assertions, DPoP proofs), until they expire.
CREATE TABLE oauth_jtis (
  key        text    PRIMARY KEY,
  expires_at bigint  NOT NULL
);
CREATE INDEX oauth_jtis_expires_idx ON oauth_jtis(expires_at);

-- The authorization server's signing key(s), private JWK JSON.
CREATE TABLE oauth_keys (
  name       text    PRIMARY KEY,
  jwk        text    NOT NULL,
  created_at bigint  NOT NULL
);
