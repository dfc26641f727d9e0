-- Which of the ids in ? (a JSON array) exist: the duplicate-key clause of a chunk with
-- unique keys would skip a taken id silently, so the caller looks first.
SELECT t.id
FROM `{table}` AS t
JOIN JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(26) CHARACTER SET ascii PATH '$')) AS l
    ON t.id = l.id
