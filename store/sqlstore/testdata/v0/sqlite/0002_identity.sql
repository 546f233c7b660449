-- Identity: customers, staff, their credentials, and sessions.
-- Times are Unix microseconds (UTC); 0 means "never". Emails are stored
-- normalised (trimmed, lower case) by the identity service.
CREATE TABLE customers (
  id             INTEGER PRIMARY KEY,
  name           TEXT    NOT NULL,
  email          TEXT    NOT NULL,
  phone          TEXT    NOT NULL DEFAULT '',
  line1          TEXT    NOT NULL DEFAULT '',
  line2          TEXT    NOT NULL DEFAULT '',
  city           TEXT    NOT NULL DEFAULT '',
  region         TEXT    NOT NULL DEFAULT '',
  postal_code    TEXT    NOT NULL DEFAULT '',
  country        TEXT    NOT NULL DEFAULT '',
  birth_year     INTEGER NOT NULL,
  since          INTEGER NOT NULL,
  password_hash  TEXT    NOT NULL,
  failures       INTEGER NOT NULL DEFAULT 0,
  locked_until   INTEGER NOT NULL DEFAULT 0,
  totp_secret    TEXT    NOT NULL DEFAULT '',
  totp_pending   TEXT    NOT NULL DEFAULT '',
  totp_last_step INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT customers_email_key UNIQUE (email)
);

CREATE TABLE staff (
  id             INTEGER PRIMARY KEY,
  email          TEXT    NOT NULL,
  name           TEXT    NOT NULL,
  role           TEXT    NOT NULL CHECK (role IN ('administrator', 'support', 'compliance', 'analyst')),
  created_at     INTEGER NOT NULL,
  password_hash  TEXT    NOT NULL,
  failures       INTEGER NOT NULL DEFAULT 0,
  locked_until   INTEGER NOT NULL DEFAULT 0,
  totp_secret    TEXT    NOT NULL DEFAULT '',
  totp_pending   TEXT    NOT NULL DEFAULT '',
  totp_last_step INTEGER NOT NULL DEFAULT 0,
  CONSTRAINT staff_email_key UNIQUE (email)
);

-- Keyed by the SHA-256 of the token: the token itself is never stored.
CREATE TABLE sessions (
  token_hash    BLOB    PRIMARY KEY,
  realm         TEXT    NOT NULL CHECK (realm IN ('customer', 'staff')),
  customer_id   INTEGER NOT NULL DEFAULT 0,
  staff_id      INTEGER NOT NULL DEFAULT 0,
  csrf          TEXT    NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,
  last_seen     INTEGER NOT NULL,
  stepped_up_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX sessions_expires_idx ON sessions(expires_at);
CREATE INDEX sessions_customer_idx ON sessions(customer_id) WHERE realm = 'customer';
CREATE INDEX sessions_staff_idx ON sessions(staff_id) WHERE realm = 'staff';
