-- Removes the limit of kind $1, with the starts recorded for it, and wakes listeners on
-- channel $2 (the table's): the kind's jobs are claimable at once.
WITH cleared AS (
    DELETE FROM {table}_limits WHERE kind = $1
),
forgotten AS (
    DELETE FROM {table}_starts WHERE kind = $1
)
SELECT pg_notify($2, '')
