-- Who holds each of the unique keys in ? (a JSON array of keys): (key, id) rows.
SELECT t.unique_lock, t.id
FROM `{table}` AS t
JOIN JSON_TABLE(?, '$[*]' COLUMNS (k VARBINARY(512) PATH '$')) AS l
    ON t.unique_lock = l.k
