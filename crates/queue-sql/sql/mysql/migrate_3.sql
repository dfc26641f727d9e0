-- Version 3: no keyed index. Migration 2's index of keyed jobs cost every job, keyed or
-- not, an entry written at insert and removed at delete (MySQL has no partial indexes),
-- and served only the key walk of a crowded limited claim. That claim now reads on
-- through the kind's due jobs in claim order instead, by the claim index (window.rs),
-- so the index, its generated columns and the walk's stored rotation go. Only
-- statements that may run again (`DROP … IF EXISTS` is MariaDB's), as in migrate_2.sql.
ALTER TABLE `{table}`
    DROP INDEX IF EXISTS `{table}_keyed_idx`,
    DROP COLUMN IF EXISTS keyed_state,
    DROP COLUMN IF EXISTS keyed_due;

ALTER TABLE `{table}_limits`
    DROP COLUMN IF EXISTS rotation;
