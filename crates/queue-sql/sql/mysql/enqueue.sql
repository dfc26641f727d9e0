-- Inserts a chunk of new jobs, given as one JSON array of rows (? below), so the
-- statement text and its prepared form are the same for any number of jobs. Each row is
-- [id, kind, payload, priority, max_attempts, run_at, delay_us, unique_key, window_us,
-- concurrency_key]:
-- the payload as a JSON string holding its JSON text; run_at a UTC "YYYY-MM-DD
-- HH:MM:SS.ffffff" or null; delay_us and window_us microseconds or null.
-- The second ? is "now": NULL for the database's clock, or the time a batch of several
-- statements read once, so that all its jobs share it and keep their order.
--
-- The placeholder at the end is empty, or, for a chunk with unique keys, the clause of
-- on_duplicate.sql, which changes nothing: a job whose key is held is skipped, and the caller reads the
-- holder in the same transaction (unique_holders.sql). The WHERE keeps that clause's ON
-- from being read as a join condition of the JSON_TABLE.
INSERT INTO `{table}` (
    id, kind, payload, priority, max_attempts, state, created_at, scheduled_at,
    unique_key, unique_lock, unique_until, concurrency_key
)
SELECT j.id, j.kind, j.payload, j.priority, j.max_attempts, 'pending', c.now,
       COALESCE(j.run_at, c.now + INTERVAL COALESCE(j.delay_us, 0) MICROSECOND),
       j.unique_key, j.unique_key,
       c.now + INTERVAL j.window_us MICROSECOND, j.concurrency_key
FROM JSON_TABLE(?, '$[*]' COLUMNS (
    id           CHAR(26)     CHARACTER SET ascii PATH '$[0]',
    kind         VARCHAR(255) CHARACTER SET utf8mb4 PATH '$[1]',
    payload      LONGTEXT     CHARACTER SET utf8mb4 PATH '$[2]',
    priority     INT          PATH '$[3]',
    max_attempts INT          PATH '$[4]',
    run_at       DATETIME(6)  PATH '$[5]',
    delay_us     BIGINT       PATH '$[6]',
    unique_key   VARCHAR(512) CHARACTER SET utf8mb4 PATH '$[7]',
    window_us    BIGINT       PATH '$[8]',
    concurrency_key VARBINARY(255) PATH '$[9]'
)) AS j,
(SELECT COALESCE(?, UTC_TIMESTAMP(6)) AS now) AS c
WHERE j.id IS NOT NULL
{on_duplicate}
