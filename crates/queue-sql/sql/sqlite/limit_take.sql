-- Takes, at priority ?1, up to ?5 jobs of kind ?3 that its per-key limit lets start, from
-- a window of the kind's first ?4 due jobs (scheduled at or before ?2, µs) in claim order,
-- keyed or not: the claim's counterpart of limit_window.sql (which stats read), picking
-- and marking the picks running in one statement, with a lease until ?9 (tokens as in
-- claim.sql). Returns the rows taken, in no set order.
--
-- A key's room: ?6 (its concurrency, NULL for none) less its running jobs with a lease
-- unexpired at ?2, and ?8 (its rate's count) less its starts after ?7 (NULL for no rate).
-- Picks at higher priorities in this claim are running already, and their starts
-- recorded, so both counts include them. A job without a key needs no room of its own; a
-- keyed one is picked when fewer of its key's jobs come before it in the window than
-- that room. Those jobs are all in the window (it is the head of the kind at this
-- priority), so one probe of the keyed index counts them: no rank over the window.
--
-- The window is a subquery SQLite runs as a coroutine, in its ORDER BY order, and the
-- picks are taken in that order: an outer ORDER BY would sort the whole window. So the
-- window stops being read at the ?5th pick, and a claim that fills its room probes no
-- more of it than that.
--
-- With ?10 set, the statement is a claim of its own, outside a transaction (see
-- src/sqlite/claim.rs): it then takes nothing unless the kind's stored limit is still a
-- per-key concurrency of ?6 and nothing else, and the kind is not paused. A constant
-- test, run once, before the window is read.
UPDATE {table}
SET state            = 'running',
    attempts         = attempts + 1,
    claim_token      = random(),
    lease_expires_at = ?9
WHERE rowid IN (
    SELECT h.rid
    FROM (
        SELECT rowid AS rid, concurrency_key AS key, scheduled_at AS due, id AS jid
        FROM {table} INDEXED BY {table}_pending_idx
        WHERE state = 'pending'
          AND priority = ?1
          AND scheduled_at <= ?2
          AND kind = ?3
          AND (
              ?10 IS NULL
              OR EXISTS (
                  SELECT 1
                  FROM {table}_limits AS l
                  WHERE l.kind = ?3
                    AND l.key_concurrency = ?6
                    AND l.concurrency IS NULL
                    AND l.rate_count IS NULL
                    AND l.key_rate_count IS NULL
                    AND l.kind NOT IN (SELECT p.kind FROM {table}_paused AS p)
              )
          )
        ORDER BY priority DESC, scheduled_at, id
        LIMIT ?4
    ) AS h
    WHERE h.key IS NULL
       OR min(
              CASE
                  WHEN ?6 IS NULL THEN 9223372036854775807
                  ELSE ?6 - (
                      SELECT count(*)
                      FROM {table} INDEXED BY {table}_keyed_running_idx
                      WHERE concurrency_key IS NOT NULL
                        AND state = 'running'
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
          ) > (
              -- The key's jobs before this one in the window.
              SELECT count(*)
              FROM {table} INDEXED BY {table}_keyed_pending_idx
              WHERE concurrency_key IS NOT NULL
                AND state = 'pending'
                AND kind = ?3
                AND concurrency_key = h.key
                AND priority = ?1
                AND (scheduled_at, id) < (h.due, h.jid)
          )
    LIMIT ?5
)
  AND state = 'pending'
RETURNING {claimed_columns}
