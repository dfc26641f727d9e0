-- The concurrency keys of kind ? in byte order, after ? and up to ?, that have a due
-- pending job, at most ?: the claim's rotation over keys. Two dives into the keyed index
-- per key, never a read of every job: the derived table lists the kind's keys by a loose
-- index scan (one step per key, keys of finished jobs included), and the subquery reads
-- each key's earliest pending entry. (A condition on the state in the outer scan makes
-- MariaDB read every entry; an EXISTS is turned into a join that does the same.)
SELECT g.concurrency_key
FROM (SELECT kind, concurrency_key
      FROM `{table}` FORCE INDEX (`{table}_keyed_idx`)
      WHERE kind = ?
        AND concurrency_key > ?
        AND concurrency_key <= ?
      GROUP BY kind, concurrency_key) AS g
WHERE (SELECT x.keyed_due
       FROM `{table}` AS x FORCE INDEX (`{table}_keyed_idx`)
       WHERE x.kind = g.kind
         AND x.concurrency_key = g.concurrency_key
         AND x.keyed_state = 'pending'
       ORDER BY x.keyed_due
       LIMIT 1) <= UTC_TIMESTAMP(6)
ORDER BY g.concurrency_key
LIMIT ?
