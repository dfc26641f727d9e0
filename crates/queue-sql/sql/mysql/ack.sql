-- Completes the jobs whose [id, token] pairs (?, a JSON array, each id at most once)
-- still hold their claim. A unique key without a window is released with the job.
-- The claim token is replaced by ?, a marker drawn for this statement: when fewer rows
-- change than pairs were sent, acked.sql finds the ones this statement completed by it.
-- (The JSON array comes first: MySQL numbers values in the order of the text.)
UPDATE `{table}` AS t
JOIN JSON_TABLE(?, '$[*]' COLUMNS (
    id    CHAR(26) CHARACTER SET ascii PATH '$[0]',
    token BIGINT   PATH '$[1]'
)) AS l
    ON t.id = l.id AND t.claim_token = l.token
SET t.claim_token      = ?,
    t.finished_at      = UTC_TIMESTAMP(6),
    t.lease_expires_at = NULL,
    t.unique_lock      = IF(t.unique_until IS NULL, NULL, t.unique_lock),
    t.state            = 'completed'
WHERE t.state = 'running'
