-- Marks the jobs picked by claim.sql running, each under its own token, with the lease
-- deadline ?. The first ? is a JSON array of [id, token] pairs; the rows are locked by
-- the pick, in the same transaction.
UPDATE `{table}` AS t
JOIN JSON_TABLE(?, '$[*]' COLUMNS (
    id    CHAR(26) CHARACTER SET ascii PATH '$[0]',
    token BIGINT   PATH '$[1]'
)) AS l
    ON t.id = l.id
SET t.state            = 'running',
    t.attempts         = t.attempts + 1,
    t.claim_token      = l.token,
    t.lease_expires_at = ?
