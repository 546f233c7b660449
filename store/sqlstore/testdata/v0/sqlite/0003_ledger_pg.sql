-- PostgreSQL-only storage tuning (fillfactor for HOT balance updates); nothing to do on SQLite.
-- Kept so both engines list the same migration versions.
SELECT 1;
