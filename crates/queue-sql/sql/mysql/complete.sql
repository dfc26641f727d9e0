-- ack.sql that also stores each job's output. ? is a JSON array of [id, token] and
-- [id, token, output] entries, each id at most once; the output is a JSON string holding
-- the output's JSON text, and an entry without one stores NULL. Used only for a batch
-- with at least one output. The marker ? replaces the token, as in ack.sql.
UPDATE `{table}` AS t
JOIN JSON_TABLE(?, '$[*]' COLUMNS (
    id     CHAR(26) CHARACTER SET ascii PATH '$[0]',
    token  BIGINT   PATH '$[1]',
    result LONGTEXT CHARACTER SET utf8mb4 PATH '$[2]'
)) AS l
    ON t.id = l.id AND t.claim_token = l.token
SET t.claim_token      = ?,
    t.finished_at      = UTC_TIMESTAMP(6),
    t.lease_expires_at = NULL,
    t.unique_lock      = IF(t.unique_until IS NULL, NULL, t.unique_lock),
    t.output           = l.result,
    t.state            = 'completed'
WHERE t.state = 'running'
