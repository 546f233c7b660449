-- The language a customer chose for the assistant's replies, buttons and
-- alerts on messaging platforms: 'en', 'es', or '' when they never chose
-- (the assistant then answers in the language of each message and offers
-- to keep Spanish). Written and read only by store/sqlstore/messenger.go.
ALTER TABLE chat_settings ADD COLUMN language TEXT NOT NULL DEFAULT '' CHECK (language IN ('', 'en', 'es'));
