-- Job counts per state and the paused kinds, read in one step. Read-only.
--
-- Returns { pending, running, completed, failed, cancelled, {paused kinds} }. One script rather than a
-- pipeline of ZCARDs: between two pipelined reads a reclaim could move a job from running
-- to pending and the counts would miss it (0 pending and 0 running while one is pending).

return {
    redis.call('ZCARD', IDX.pending),
    redis.call('ZCARD', IDX.running),
    redis.call('ZCARD', IDX.completed),
    redis.call('ZCARD', IDX.failed),
    redis.call('ZCARD', IDX.cancelled),
    redis.call('SMEMBERS', PAUSED),
}
