-- Which jobs of an ack or complete statement that changed fewer rows than it was given
-- it completed: those among the ids in ? (a JSON array of [id, token] pairs) that now
-- carry its marker ?.
SELECT t.id
FROM `{table}` AS t
JOIN JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(26) CHARACTER SET ascii PATH '$[0]')) AS l
    ON t.id = l.id
WHERE t.claim_token = ?
