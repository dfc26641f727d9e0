-- Moves a failed job back to pending: attempts reset, due now. Anything else (unknown
-- id, another state, a body too broken to schedule) is left alone.
--
-- ARGV: id. Returns 1 when replayed, else 0.

local id = ARGV[1]
local jk = JOB .. id
local f = redis.call('HMGET', jk, 'state', 'kind', 'priority')
local priority = tonumber(f[3])
if f[1] ~= 'failed' or not f[2] or not priority then
    return 0
end
local now = now_ms()
redis.call('HSET', jk, 'state', 'pending', 'attempts', '0', 'scheduled_at', int(now))
redis.call('HDEL', jk, 'finished_at')
redis.call('ZREM', IDX.failed, id)
redis.call('ZADD', IDX.pending, 0, id)
schedule(id, f[2], priority, now, now)
redis.call('PUBLISH', WAKE, '')
return 1
