-- PostgreSQL-only tuning (SQLite runs SELECT 1 so both list the same versions) of the ledger tables; the columns stay those of 0001,
-- which SQLite shares.
--
-- Every batch rewrites the balance and held of each account it touches. With
-- free room on the page the new row version stays there (a HOT update): no new
-- entries in the account indexes and less WAL. 80 leaves that room; it applies
-- to pages written from now on.
{{if .postgres}}ALTER TABLE accounts SET (fillfactor = 80);{{else}}SELECT 1;{{end}}
