-- Bank-started messages (alerts) are sent once per key in two phases: the
-- key is claimed (sending = 1, seen_at = when) before the platform is
-- called and marked sent (sending = 0) after it answered. A claim whose
-- instance died mid-send goes stale after a lease and is taken over, so a
-- kill -9 between the claim and the send can no longer lose the message.
-- Inbound event ids are recorded with sending = 0 as before; existing rows
-- are all finished sends or inbound events.
ALTER TABLE chat_events ADD COLUMN sending {{.int64}} NOT NULL DEFAULT 0;
