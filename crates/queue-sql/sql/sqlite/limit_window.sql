-- A window of kind ?3's head at the highest priority below ?1 with pending jobs (found as
-- next_priority.sql does, so the caller needs no probe of its own): its first ?4 due jobs
-- (scheduled at or before ?2, µs) in claim order, keyed or not, read as
-- limit_kind_jobs.sql does. Returns those of them a per-key limit lets start, up to ?5, in
-- claim order, and one more row with only `seen`, how many jobs the window held, and the
-- priority (NULL when none is left). The picks are made here, not by the caller, so only
-- they leave SQLite, not the window. Stats read this; a claim takes its picks with
-- limit_take.sql, which decides alike.
--
-- A key's room: ?6 (its concurrency, NULL for none) less its running jobs with a lease
-- unexpired at ?2, and ?8 (its rate's count) less its starts after ?7 (NULL for no rate),
-- less its picks at higher priorities in this claim (?9, a JSON array of their keys).
-- A job without a key needs no room of its own; a keyed one is picked when it is among
-- its key's first `room` jobs of the window. CASE runs a probe only for a part that is
-- set. The room is probed per keyed job and the rank counted on an automatic index of
-- the window: cheaper than grouping by key and ranking with a window function.
WITH top AS MATERIALIZED (
    SELECT priority
    FROM {table} INDEXED BY {table}_pending_idx
    WHERE state = 'pending'
      AND priority < ?1
    ORDER BY priority DESC
    LIMIT 1
),
head AS MATERIALIZED (
    SELECT rowid AS rid,
           CAST(concurrency_key AS TEXT) AS key,
           CAST(scheduled_at AS INTEGER) AS due,
           CAST(id AS TEXT) AS jid
    FROM {table} INDEXED BY {table}_pending_idx
    WHERE state = 'pending'
      AND priority = (SELECT priority FROM top)
      AND scheduled_at <= ?2
      AND kind = ?3
    ORDER BY priority DESC, scheduled_at, id
    LIMIT ?4
)
SELECT NULL, NULL, NULL, NULL, (SELECT count(*) FROM head) AS seen,
       (SELECT priority FROM top)
UNION ALL
SELECT *
FROM (
    SELECT h.rid, h.key, h.due, h.jid, NULL, NULL
    FROM head AS h
    WHERE h.key IS NULL
       OR min(
              CASE
                  WHEN ?6 IS NULL THEN 9223372036854775807
                  ELSE ?6 - (
                      SELECT count(*)
                      FROM {table} INDEXED BY {table}_keyed_running_idx
                      WHERE state = 'running'
                        AND concurrency_key IS NOT NULL
                        AND kind = ?3
                        AND concurrency_key = h.key
                        AND lease_expires_at > ?2
                  )
              END,
              CASE
                  WHEN ?7 IS NULL THEN 9223372036854775807
                  ELSE ?8 - (
                      SELECT count(*)
                      FROM {table}_starts INDEXED BY {table}_starts_key_idx
                      WHERE kind = ?3
                        AND key = h.key
                        AND at > ?7
                  )
              END
          ) - (SELECT count(*) FROM json_each(?9) AS p WHERE p.value = h.key)
          -- Its rank among its key's jobs in the window, itself included.
          >= (
              SELECT count(*)
              FROM head AS e
              WHERE e.key = h.key
                AND (e.rid = h.rid OR e.due < h.due OR (e.due = h.due AND e.jid < h.jid))
          )
    ORDER BY h.due, h.jid
    LIMIT ?5
)
