-- Identity: customers, staff, their credentials, and sessions.
-- Times are Unix microseconds (UTC, {{.int64}}); 0 means "never". Emails are stored
-- normalised (trimmed, lower case) by the identity service.
CREATE TABLE customers (
  id             {{.serial}} PRIMARY KEY,
  name           TEXT    NOT NULL,
  email          TEXT    NOT NULL,
  phone          TEXT    NOT NULL DEFAULT '',
  line1          TEXT    NOT NULL DEFAULT '',
  line2          TEXT    NOT NULL DEFAULT '',
  city           TEXT    NOT NULL DEFAULT '',
  region         TEXT    NOT NULL DEFAULT '',
  postal_code    TEXT    NOT NULL DEFAULT '',
  country        TEXT    NOT NULL DEFAULT '',
  birth_year     {{.int64}}  NOT NULL,
  since          {{.int64}}  NOT NULL,
  password_hash  TEXT    NOT NULL,
  failures       {{.int64}}  NOT NULL DEFAULT 0,
  locked_until   {{.int64}}  NOT NULL DEFAULT 0,
  totp_secret    TEXT    NOT NULL DEFAULT '',
  totp_pending   TEXT    NOT NULL DEFAULT '',
  totp_last_step {{.int64}}  NOT NULL DEFAULT 0,
  CONSTRAINT customers_email_key UNIQUE (email)
);

CREATE TABLE staff (
  id             {{.serial}} PRIMARY KEY,
  email          TEXT    NOT NULL,
  name           TEXT    NOT NULL,
  role           TEXT    NOT NULL CHECK (role IN ('administrator', 'support', 'compliance', 'analyst')),
  created_at     {{.int64}}  NOT NULL,
  password_hash  TEXT    NOT NULL,
  failures       {{.int64}}  NOT NULL DEFAULT 0,
  locked_until   {{.int64}}  NOT NULL DEFAULT 0,
  totp_secret    TEXT    NOT NULL DEFAULT '',
  totp_pending   TEXT    NOT NULL DEFAULT '',
  totp_last_step {{.int64}}  NOT NULL DEFAULT 0,
  CONSTRAINT staff_email_key UNIQUE (email)
);

-- Keyed by the SHA-256 of the token: the token itself is never stored.
CREATE TABLE sessions (
  token_hash    {{.bytes}}   PRIMARY KEY,
  realm         TEXT    NOT NULL CHECK (realm IN ('customer', 'staff')),
  customer_id   {{.int64}}  NOT NULL DEFAULT 0,
  staff_id      {{.int64}}  NOT NULL DEFAULT 0,
  csrf          TEXT    NOT NULL,
  created_at    {{.int64}}  NOT NULL,
  expires_at    {{.int64}}  NOT NULL,
  last_seen     {{.int64}}  NOT NULL,
  stepped_up_at {{.int64}}  NOT NULL DEFAULT 0
){{.without_rowid}};
CREATE INDEX sessions_expires_idx ON sessions(expires_at);
CREATE INDEX sessions_customer_idx ON sessions(customer_id) WHERE realm = 'customer';
CREATE INDEX sessions_staff_idx ON sessions(staff_id) WHERE realm = 'staff';
