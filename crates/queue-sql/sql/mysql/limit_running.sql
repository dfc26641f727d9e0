-- Kind ?'s running jobs whose lease has not run out, per concurrency key (NULL: without
-- one). An expired lease frees its slot at once, before reclaim runs. The running jobs
-- are one range of the pending index, as many as the workers hold.
SELECT concurrency_key, COUNT(*)
FROM `{table}` FORCE INDEX (`{table}_pending_idx`)
WHERE state = 'running'
  AND kind = ?
  AND lease_expires_at > UTC_TIMESTAMP(6)
GROUP BY concurrency_key
