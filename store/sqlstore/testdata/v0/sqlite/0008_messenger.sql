-- Messenger: links between platform users and customers (each under a
-- consent), account linkings in progress, inbound event ids already handled,
-- conversations with their pending confirmation and hand-over state,
-- transcripts for the staff inbox, and customers' platform settings.
-- Times are Unix microseconds (UTC); 0 means "never". Written and read only
-- by store/sqlite/messenger.go.
CREATE TABLE chat_links (
  platform    TEXT    NOT NULL,
  user_id     TEXT    NOT NULL,
  customer_id INTEGER NOT NULL,
  grant_id    TEXT    NOT NULL,
  linked_at   INTEGER NOT NULL,
  PRIMARY KEY (platform, user_id)
);
CREATE INDEX chat_links_grant_idx ON chat_links(grant_id);
CREATE INDEX chat_links_customer_idx ON chat_links(customer_id, linked_at);

CREATE TABLE chat_link_pending (
  platform   TEXT    NOT NULL,
  user_id    TEXT    NOT NULL,
  verifier   TEXT    NOT NULL,               -- PKCE code_verifier, for a few minutes
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (platform, user_id)
);

-- Inbound event ids (message mid, postback mid, update_id) already handled:
-- a redelivered webhook is recognised here and ignored.
CREATE TABLE chat_events (
  platform TEXT    NOT NULL,
  event_id TEXT    NOT NULL,
  seen_at  INTEGER NOT NULL,
  PRIMARY KEY (platform, event_id)
);
CREATE INDEX chat_events_seen_idx ON chat_events(seen_at);

CREATE TABLE chat_conversations (
  platform    TEXT    NOT NULL,
  user_id     TEXT    NOT NULL,
  mode        TEXT    NOT NULL CHECK (mode IN ('bot', 'human')),
  pending     TEXT    NOT NULL DEFAULT '',   -- JSON of assistant.Pending, '' when none
  last_in_at  INTEGER NOT NULL DEFAULT 0,
  last_out_at INTEGER NOT NULL DEFAULT 0,
  handed_at   INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL,
  PRIMARY KEY (platform, user_id)
);
CREATE INDEX chat_conversations_mode_idx ON chat_conversations(mode, handed_at);

CREATE TABLE chat_messages (
  id        INTEGER PRIMARY KEY,
  platform  TEXT    NOT NULL,
  user_id   TEXT    NOT NULL,
  at        INTEGER NOT NULL,
  direction TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
  author    TEXT    NOT NULL DEFAULT '',
  body      TEXT    NOT NULL
);
CREATE INDEX chat_messages_conv_idx ON chat_messages(platform, user_id, id);

CREATE TABLE chat_settings (
  customer_id INTEGER PRIMARY KEY,
  privacy     TEXT    NOT NULL CHECK (privacy IN ('full', 'minimal', 'off')),
  alerts      INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
