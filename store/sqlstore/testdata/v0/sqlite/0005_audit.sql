-- The disclosure log's tables moved to a file of their own (see
-- auditmigrations/ and audit.go): a database that applied the first version
-- of this migration has them moved at open by moveAudit.
SELECT 1;
