-- A payment's status change is told (alerts, partner notifications) by the
-- instance that stored it, right after. untold is set with the change and
-- cleared once it was told, so a change whose instance died in between is
-- found and told by the rails worker (rails.Service.Retell), not lost.
-- Existing rows were told when they changed.
ALTER TABLE rail_payments ADD COLUMN untold {{.int64}} NOT NULL DEFAULT 0;
CREATE INDEX rail_payments_untold ON rail_payments (id) WHERE untold = 1;
