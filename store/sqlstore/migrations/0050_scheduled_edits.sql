-- Scheduled payments that can be edited and authorised at setup (package
-- scheduled). version grows on every change of an order (a claim, an
-- edit, a cancel): an edit and a claim each succeed only on the version
-- they read, so an edit racing the worker either lands before the
-- occurrence is claimed (and is paid as edited) or is refused, never half
-- applied. stepup_amount is the largest payment the customer authorised
-- with their authenticator code when setting the order up (0: none), and
-- stepup_at when; the worker pays up to it without asking again.
ALTER TABLE scheduled_orders ADD COLUMN version {{.int64}} NOT NULL DEFAULT 0;
ALTER TABLE scheduled_orders ADD COLUMN stepup_amount {{.int64}} NOT NULL DEFAULT 0;
ALTER TABLE scheduled_orders ADD COLUMN stepup_at {{.int64}} NOT NULL DEFAULT 0;
-- anchor is the occurrence whose date start_on is: 1 until the customer
-- moves the next date, which re-anchors the order's later dates there.
ALTER TABLE scheduled_orders ADD COLUMN anchor {{.int64}} NOT NULL DEFAULT 1;

-- Every change a customer made to an order, written in the transaction
-- that makes it: the order's history, as the customer and staff read it.
CREATE TABLE scheduled_changes (
  order_id    {{.int64}} NOT NULL,
  version     {{.int64}} NOT NULL,
  customer_id {{.int64}} NOT NULL,
  actor       TEXT NOT NULL,
  detail      TEXT NOT NULL,
  changed_at  {{.int64}} NOT NULL,
  PRIMARY KEY (order_id, version)
);
