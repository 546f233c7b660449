-- A transfer's legs inline: "account:amount,..." in the order the ledger
-- reads them back (amount, then account: debits first), as
-- ledger.EncodePostings writes them. A transfer is then read (a replay, a
-- post or void, GET transfer) from its own row, and postings no longer need
-- an index by transfer: every batch wrote each posting into it (two per
-- transfer) only for those reads. Postings stay, keyed for history and the
-- balance folds; Verify checks the legs against them (sqlstore/ledger.go).
ALTER TABLE transfers ADD COLUMN legs TEXT NOT NULL DEFAULT '';
UPDATE transfers SET legs = COALESCE((SELECT {{if .postgres}}string_agg(p.account_id || ':' || p.amount, ',' ORDER BY p.amount, p.account_id){{else}}group_concat(p.account_id || ':' || p.amount, ',' ORDER BY p.amount, p.account_id){{end}}
  FROM postings p WHERE p.transfer_id = transfers.id), '');
DROP INDEX postings_transfer_idx;
