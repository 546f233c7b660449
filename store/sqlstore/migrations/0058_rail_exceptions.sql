-- Dishonoured and contested returns (package rails, dishonor.go;
-- docs/rails.md "Dishonoured and contested returns"): a return is judged a
-- duplicate by the other returns of its payment, and a dishonour of the
-- bank's return by the inbound entry that return answered, both found by
-- the entries' payment. The dishonours and contests themselves are rows of
-- rail_payments (kinds 'dishonor' and 'contest') and rail_entries (kinds
-- 'dishonor' and 'contest'; status 'dishonored' for a return not applied).
CREATE INDEX rail_entries_payment ON rail_entries (payment_id);
