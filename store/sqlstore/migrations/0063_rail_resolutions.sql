-- What an operator decided for an item waiting in the ACH return exceptions
-- account (package rails, resolve.go; docs/rails.md "Settling what waits
-- in the exceptions account"): one row per waiting entry of rail_entries
-- (kinds 'dishonor' and 'contest', status 'unmatched'), inserted once (the
-- first decision wins on every instance), then completed with the ledger
-- transfer that books it (done_at > 0), when the entry becomes 'resolved'
-- in the same transaction. held is what the item held in the exceptions
-- account, signed (the reconciliation counts it once resolved); owed and
-- recovering are a charge's debt, recovered as a returned collection's is.
CREATE TABLE rail_resolutions (
  file_id     {{.int64}} NOT NULL,
  trace       TEXT NOT NULL,
  kind        TEXT NOT NULL,
  action      TEXT NOT NULL,
  held        {{.int64}} NOT NULL,
  customer_id {{.int64}} NOT NULL DEFAULT 0,
  account_id  {{.int64}} NOT NULL DEFAULT 0,
  staff_id    {{.int64}} NOT NULL,
  reason      TEXT NOT NULL,
  transfer_id {{.int64}} NOT NULL DEFAULT 0,
  owed        {{.int64}} NOT NULL DEFAULT 0,
  recovering  {{.int64}} NOT NULL DEFAULT 0,
  decided_at  {{.int64}} NOT NULL,
  done_at     {{.int64}} NOT NULL DEFAULT 0,
  PRIMARY KEY (file_id, trace, kind)
);
CREATE INDEX rail_entries_status ON rail_entries (status, kind);
