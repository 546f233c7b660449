-- The time zone a customer chose for the times the bank shows them (web
-- pages, e-mails): an IANA name ('America/Mexico_City'), or '' when they
-- never chose (the bank's --time-zone then). Kept beside the language, in
-- the one row of choices a customer makes once for every channel. Written
-- and read only by store/sqlstore/messenger.go (SetTimeZone, TimeZone).
ALTER TABLE chat_settings ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
