-- Moves the lease deadline of the claims still held ([id, token] pairs in ?, a JSON
-- array) to now plus ? microseconds. held.sql then reads which held.
UPDATE `{table}` AS t
JOIN JSON_TABLE(?, '$[*]' COLUMNS (
    id    CHAR(26) CHARACTER SET ascii PATH '$[0]',
    token BIGINT   PATH '$[1]'
)) AS l
    ON t.id = l.id AND t.claim_token = l.token
SET t.lease_expires_at = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND
WHERE t.state = 'running'
