-- The connections of the chaos workers (their user is bound as ?), never the asking one.
SELECT CAST(ID AS SIGNED) AS id
FROM information_schema.PROCESSLIST
WHERE USER = ?
  AND ID <> CONNECTION_ID()
