-- The index by leaf hash moved to a file of its own (leafmigrations), which
-- the next seal fills from the start: building it here, in the seal's
-- transaction, held the audit file's writer for 10-45 ms every two seconds,
-- and every API call waiting for its record waited as long.
DROP TABLE audit_leaves;
ALTER TABLE audit_state DROP COLUMN leaves_upto;
