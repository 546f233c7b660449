-- Consents and partners changed since a moment: each instance's token
-- verifier asks once per poll which consents and partners were updated
-- (revoked, expired, extended, suspended, reinstated) since its last poll,
-- instead of reading every consent it serves once a second. updated_at is
-- set on every such change (store/sqlstore/consent.go); these indexes make
-- the poll a range scan over the last seconds' changes.
CREATE INDEX consents_updated_idx ON consents(updated_at);
CREATE INDEX partners_updated_idx ON partners(updated_at);
