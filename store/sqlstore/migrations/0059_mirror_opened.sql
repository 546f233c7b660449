-- Mirror mode: the rows of the core's account lists (rails/coreaccounts.go;
-- docs/rails.md "Mirror mode"): each account number listed, the ledger
-- account opened for it (0 when refused), its customer, the list it came
-- in, and whether it was opened or refused and why. A number refused may be
-- opened by a later list; one opened keeps its record.
CREATE TABLE mirror_opened (
  number      TEXT PRIMARY KEY,
  account_id  {{.int64}} NOT NULL DEFAULT 0,
  customer_id {{.int64}} NOT NULL DEFAULT 0,
  currency    TEXT NOT NULL,
  file        TEXT NOT NULL,
  status      TEXT NOT NULL,
  detail      TEXT NOT NULL DEFAULT '',
  at          {{.int64}} NOT NULL
);
