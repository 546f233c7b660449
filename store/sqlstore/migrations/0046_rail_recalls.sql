-- Requests to return an instant payment the bank sent (camt.056 out,
-- answered by a camt.029; docs/rails.md "Instant returns and recalls"):
-- where the request is ('' none, requested, accepted, refused) and its
-- reason or answer in words. Written by store/sqlstore/rails.go only.
ALTER TABLE rail_payments ADD COLUMN recall TEXT NOT NULL DEFAULT '';
ALTER TABLE rail_payments ADD COLUMN recall_note TEXT NOT NULL DEFAULT '';
