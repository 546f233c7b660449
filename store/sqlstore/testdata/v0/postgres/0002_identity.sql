-- Identity: customers, staff, their credentials, and sessions.
-- Times are Unix microseconds (UTC, bigint); 0 means "never". Emails are stored
-- normalised (trimmed, lower case) by the identity service.
CREATE TABLE customers (
  id             bigserial PRIMARY KEY,
  name           text    NOT NULL,
  email          text    NOT NULL,
  phone          text    NOT NULL DEFAULT '',
  line1          text    NOT NULL DEFAULT '',
  line2          text    NOT NULL DEFAULT '',
  city           text    NOT NULL DEFAULT '',
  region         text    NOT NULL DEFAULT '',
  postal_code    text    NOT NULL DEFAULT '',
  country        text    NOT NULL DEFAULT '',
  birth_year     bigint  NOT NULL,
  since          bigint  NOT NULL,
  password_hash  text    NOT NULL,
  failures       bigint  NOT NULL DEFAULT 0,
  locked_until   bigint  NOT NULL DEFAULT 0,
  totp_secret    text    NOT NULL DEFAULT '',
  totp_pending   text    NOT NULL DEFAULT '',
  totp_last_step bigint  NOT NULL DEFAULT 0,
  CONSTRAINT customers_email_key UNIQUE (email)
);

CREATE TABLE staff (
  id             bigserial PRIMARY KEY,
  email          text    NOT NULL,
  name           text    NOT NULL,
  role           text    NOT NULL CHECK (role IN ('administrator', 'support', 'compliance', 'analyst')),
  created_at     bigint  NOT NULL,
  password_hash  text    NOT NULL,
  failures       bigint  NOT NULL DEFAULT 0,
  locked_until   bigint  NOT NULL DEFAULT 0,
  totp_secret    text    NOT NULL DEFAULT '',
  totp_pending   text    NOT NULL DEFAULT '',
  totp_last_step bigint  NOT NULL DEFAULT 0,
  CONSTRAINT staff_email_key UNIQUE (email)
);

-- Keyed by the SHA-256 of the token: the token itself is never stored.
CREATE TABLE sessions (
  token_hash    bytea   PRIMARY KEY,
  realm         text    NOT NULL CHECK (realm IN ('customer', 'staff')),
  customer_id   bigint  NOT NULL DEFAULT 0,
  staff_id      bigint  NOT NULL DEFAULT 0,
  csrf          text    NOT NULL,
  created_at    bigint  NOT NULL,
  expires_at    bigint  NOT NULL,
  last_seen     bigint  NOT NULL,
  stepped_up_at bigint  NOT NULL DEFAULT 0
);
CREATE INDEX sessions_expires_idx ON sessions(expires_at);
CREATE INDEX sessions_customer_idx ON sessions(customer_id) WHERE realm = 'customer';
CREATE INDEX sessions_staff_idx ON sessions(staff_id) WHERE realm = 'staff';
