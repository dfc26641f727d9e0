-- Moves a failed job back to pending: attempts reset, due now. Anything else (unknown
-- id, another state, a body too broken to schedule) is left alone. A unique key held
-- until the job ends was released when it failed: the job takes it again when it is
-- free; when another job holds it meanwhile, the replay still happens and the key stays
-- with that job.
--
-- ARGV: id. Returns 1 when replayed, else 0.

local id = ARGV[1]
local jk = JOB .. id
local f = redis.call('HMGET', jk, 'state', 'kind', 'priority', 'unique_key', 'unique_hold')
local priority = tonumber(f[3])
if f[1] ~= 'failed' or not f[2] or not priority then
    return 0
end
local now = now_ms()
redis.call('HSET', jk, 'state', 'pending', 'attempts', '0', 'scheduled_at', int(now))
redis.call('HDEL', jk, 'finished_at')
if f[4] and f[5] == 'final' then
    local uk = UNIQUE .. f[4]
    if not unique_holder(uk) then
        redis.call('SET', uk, id)
    end
end
redis.call('ZREM', IDX.failed, id)
redis.call('ZREM', FINISHED.failed, id)
redis.call('ZADD', IDX.pending, 0, id)
schedule(id, f[2], priority, now, now)
redis.call('PUBLISH', WAKE, '')
return 1
