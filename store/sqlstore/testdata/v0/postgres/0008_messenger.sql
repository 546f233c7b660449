-- Messenger: links between platform users and customers (each under a
-- consent), account linkings in progress, inbound event ids already handled,
-- conversations with their pending confirmation and hand-over state,
-- transcripts for the staff inbox, and customers' platform settings.
-- Times are Unix microseconds (UTC); 0 means "never". Written and read only
-- by store/postgres/messenger.go.
CREATE TABLE chat_links (
  platform    text    NOT NULL,
  user_id     text    NOT NULL,
  customer_id bigint  NOT NULL,
  grant_id    text    NOT NULL,
  linked_at   bigint  NOT NULL,
  PRIMARY KEY (platform, user_id)
);
CREATE INDEX chat_links_grant_idx ON chat_links(grant_id);
CREATE INDEX chat_links_customer_idx ON chat_links(customer_id, linked_at);

CREATE TABLE chat_link_pending (
  platform   text    NOT NULL,
  user_id    text    NOT NULL,
  verifier   text    NOT NULL,               -- PKCE code_verifier, for a few minutes
  expires_at bigint  NOT NULL,
  PRIMARY KEY (platform, user_id)
);

-- Inbound event ids (message mid, postback mid, update_id) already handled:
-- a redelivered webhook is recognised here and ignored.
CREATE TABLE chat_events (
  platform text    NOT NULL,
  event_id text    NOT NULL,
  seen_at  bigint  NOT NULL,
  PRIMARY KEY (platform, event_id)
);
CREATE INDEX chat_events_seen_idx ON chat_events(seen_at);

CREATE TABLE chat_conversations (
  platform    text    NOT NULL,
  user_id     text    NOT NULL,
  mode        text    NOT NULL CHECK (mode IN ('bot', 'human')),
  pending     text    NOT NULL DEFAULT '',   -- JSON of assistant.Pending, '' when none
  last_in_at  bigint  NOT NULL DEFAULT 0,
  last_out_at bigint  NOT NULL DEFAULT 0,
  handed_at   bigint  NOT NULL DEFAULT 0,
  updated_at  bigint  NOT NULL,
  PRIMARY KEY (platform, user_id)
);
CREATE INDEX chat_conversations_mode_idx ON chat_conversations(mode, handed_at);

CREATE TABLE chat_messages (
  id        bigserial PRIMARY KEY,
  platform  text    NOT NULL,
  user_id   text    NOT NULL,
  at        bigint  NOT NULL,
  direction text    NOT NULL CHECK (direction IN ('in', 'out')),
  author    text    NOT NULL DEFAULT '',
  body      text    NOT NULL
);
CREATE INDEX chat_messages_conv_idx ON chat_messages(platform, user_id, id);

CREATE TABLE chat_settings (
  customer_id bigint  PRIMARY KEY,
  privacy     text    NOT NULL CHECK (privacy IN ('full', 'minimal', 'off')),
  alerts      bigint  NOT NULL,
  updated_at  bigint  NOT NULL
);
