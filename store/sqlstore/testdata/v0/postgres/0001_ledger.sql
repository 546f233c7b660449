-- Ledger: accounts, transfers, postings, and the reference data around them.
-- Times are Unix microseconds (UTC) in both engines; money is bigint minor units.
CREATE TABLE accounts (
  id          bigserial PRIMARY KEY,
  customer_id bigint  NOT NULL DEFAULT 0,
  kind        text    NOT NULL,
  name        text    NOT NULL,
  currency    text    NOT NULL,
  status      text    NOT NULL,
  number      text    NOT NULL,
  routing     text    NOT NULL,
  limit_minor bigint  NOT NULL DEFAULT 0 CHECK (limit_minor >= 0),
  unbounded   boolean NOT NULL DEFAULT false,
  balance     bigint  NOT NULL DEFAULT 0,
  held        bigint  NOT NULL DEFAULT 0 CHECK (held >= 0),
  opened_at   bigint  NOT NULL,
  CONSTRAINT accounts_number_key UNIQUE (number),
  CONSTRAINT accounts_within_limit CHECK (unbounded OR balance - held >= -limit_minor)
);
CREATE INDEX accounts_customer_idx ON accounts(customer_id);

CREATE SEQUENCE transfers_id_seq;
CREATE TABLE transfers (
  id           bigint  PRIMARY KEY,
  client       text    NOT NULL,
  idem_key     text    NOT NULL,
  request_hash bytea   NOT NULL,
  currency     text    NOT NULL,
  amount       bigint  NOT NULL,
  description  text    NOT NULL,
  merchant_id  bigint  NOT NULL DEFAULT 0,
  category     text    NOT NULL DEFAULT '',
  status       text    NOT NULL,
  created_at   bigint  NOT NULL,
  posted_at    bigint  NOT NULL DEFAULT 0,
  voided_at    bigint  NOT NULL DEFAULT 0,
  CONSTRAINT transfers_client_key UNIQUE (client, idem_key)
);

CREATE TABLE postings (
  account_id  bigint NOT NULL,
  at          bigint NOT NULL,
  transfer_id bigint NOT NULL,
  amount      bigint NOT NULL,
  PRIMARY KEY (account_id, at, transfer_id)
);
CREATE INDEX postings_transfer_idx ON postings(transfer_id);

CREATE TABLE merchants (
  id       bigserial PRIMARY KEY,
  name     text NOT NULL,
  mcc      text NOT NULL,
  category text NOT NULL,
  city     text NOT NULL DEFAULT '',
  country  text NOT NULL DEFAULT ''
);

CREATE TABLE cards (
  id          bigserial PRIMARY KEY,
  account_id  bigint NOT NULL REFERENCES accounts(id),
  customer_id bigint NOT NULL,
  last4       text   NOT NULL,
  network     text   NOT NULL,
  status      text   NOT NULL,
  created_at  bigint NOT NULL
);
CREATE INDEX cards_customer_idx ON cards(customer_id);

CREATE TABLE payees (
  id          bigserial PRIMARY KEY,
  customer_id bigint NOT NULL,
  name        text   NOT NULL,
  nickname    text   NOT NULL,
  account_id  bigint NOT NULL DEFAULT 0,
  routing     text   NOT NULL DEFAULT '',
  number      text   NOT NULL DEFAULT '',
  created_at  bigint NOT NULL,
  CONSTRAINT payees_customer_nickname UNIQUE (customer_id, nickname)
);
