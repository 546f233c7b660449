-- Chat channels: the inbox of platform events stored before the webhook is
-- answered, and account linkings in progress under the platforms' own
-- linking protocol. Times are Unix microseconds (UTC); 0 means "never".
-- Written and read only by store/sqlstore/chatinbox.go.
--
-- chat_inbox is generic: any platform's events, keyed by the platform's
-- own event id (Messenger's mid), processed in id order within a
-- conversation (the platform's id of the person). A row is claimed with a
-- lease (owner, lease_until) and marked done_at when processed; done rows
-- stay for the redelivery window so that a late redelivery is still
-- recognised, then are purged.
CREATE TABLE chat_inbox (
  id           {{.serial}} PRIMARY KEY,
  platform     TEXT    NOT NULL,
  conversation TEXT    NOT NULL,
  event_id     TEXT    NOT NULL,
  body         TEXT    NOT NULL,
  received_at  {{.int64}}  NOT NULL,
  owner        TEXT    NOT NULL DEFAULT '',
  lease_until  {{.int64}}  NOT NULL DEFAULT 0,
  attempts     {{.int64}}  NOT NULL DEFAULT 0,
  done_at      {{.int64}}  NOT NULL DEFAULT 0,
  failure      TEXT    NOT NULL DEFAULT '',
  UNIQUE (platform, event_id)
);
-- The waiting rows, by conversation and order: the claim's head-of-line test.
CREATE INDEX chat_inbox_waiting_idx ON chat_inbox(platform, conversation, id) WHERE done_at = 0;
CREATE INDEX chat_inbox_done_idx ON chat_inbox(done_at) WHERE done_at > 0;

-- Account linkings in progress: "state:<oauth state>" rows (the person,
-- the PKCE verifier, the platform's redirect_uri) and "code:<sha-256>" rows
-- (the person and the consent an authorization_code stands for). Each is
-- taken once.
CREATE TABLE chat_link_attempts (
  platform     TEXT    NOT NULL,
  id           TEXT    NOT NULL,
  user_id      TEXT    NOT NULL,
  verifier     TEXT    NOT NULL DEFAULT '',
  redirect_uri TEXT    NOT NULL DEFAULT '',
  grant_id     TEXT    NOT NULL DEFAULT '',
  expires_at   {{.int64}}  NOT NULL,
  PRIMARY KEY (platform, id)
);
CREATE INDEX chat_link_attempts_expires_idx ON chat_link_attempts(expires_at);
