-- Locks the jobs chosen from a limited kind's window, ? being a JSON array of their ids,
-- by primary key. One that left `pending` since the window was read (cancelled, say) is
-- not taken, nor one another transaction holds. The last column is the database's
-- clock, as in claim.sql.
SELECT {columns}, UTC_TIMESTAMP(6)
FROM `{table}`
WHERE id IN (SELECT p.id
             FROM JSON_TABLE(?, '$[*]' COLUMNS (id CHAR(26) CHARACTER SET ascii PATH '$')) AS p)
  AND state = 'pending'
  AND scheduled_at <= UTC_TIMESTAMP(6)
FOR UPDATE SKIP LOCKED
