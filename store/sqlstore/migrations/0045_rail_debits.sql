-- ACH debits (package rails, docs/rails.md "Debits"): a debit the bank
-- originates carries its Standard Entry Class code and the customer's
-- authorisation as recorded (NACHA Operating Rules, Article Two, Subsection
-- 2.3: the originator must hold the receiver's authorisation), the moment
-- it settled (the start of its return windows), and what a return after
-- the money was spent left owed to the bank's ACH return receivable.
ALTER TABLE rail_payments ADD COLUMN sec TEXT NOT NULL DEFAULT '';
ALTER TABLE rail_payments ADD COLUMN auth_text TEXT NOT NULL DEFAULT '';
ALTER TABLE rail_payments ADD COLUMN settled_at {{.int64}} NOT NULL DEFAULT 0;
ALTER TABLE rail_payments ADD COLUMN owed {{.int64}} NOT NULL DEFAULT 0 CHECK (owed >= 0);
ALTER TABLE rail_payments ADD COLUMN recovering {{.int64}} NOT NULL DEFAULT 0 CHECK (recovering >= 0);
CREATE INDEX rail_payments_owed ON rail_payments (owed, id);
