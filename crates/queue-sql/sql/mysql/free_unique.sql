-- Releases the unique keys in ? (a JSON array of keys) whose window has ended, so a new
-- job may take them. Keys without a window (unique_until NULL) are released by the
-- statement that finishes their job instead.
UPDATE `{table}` AS t
JOIN JSON_TABLE(?, '$[*]' COLUMNS (k VARBINARY(512) PATH '$')) AS l
    ON t.unique_lock = l.k
SET t.unique_lock = NULL
WHERE t.unique_until <= UTC_TIMESTAMP(6)
