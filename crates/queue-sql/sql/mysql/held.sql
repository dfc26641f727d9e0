-- Which of the [id, token] pairs in ? still hold their claim, and whether each of those
-- jobs has a cancel request.
SELECT t.id, t.cancel_requested
FROM `{table}` AS t
JOIN JSON_TABLE(?, '$[*]' COLUMNS (
    id    CHAR(26) CHARACTER SET ascii PATH '$[0]',
    token BIGINT   PATH '$[1]'
)) AS l
    ON t.id = l.id AND t.claim_token = l.token
WHERE t.state = 'running'
