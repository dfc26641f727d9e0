-- Makes a pending job that waits in the delayed set due now (server clock): into its
-- ready set, and idle workers woken as after an enqueue. Anything else (unknown, running,
-- finished, ready already, or delayed but due already, which the next claim promotes) is
-- left alone.
--
-- ARGV: id. Returns 1 when the job was made due, else 0.

local id = ARGV[1]
local jk = JOB .. id
local f = redis.call('HMGET', jk, 'state', 'kind', 'priority')
local priority = tonumber(f[3])
if f[1] ~= 'pending' or not f[2] or not priority then
    return 0
end
local due = tonumber(redis.call('ZSCORE', DELAYED, id))
local now = now_ms()
if not due or due <= now then
    return 0
end
redis.call('ZREM', DELAYED, id)
redis.call('HSET', jk, 'scheduled_at', int(now))
schedule(id, f[2], priority, now, now)
redis.call('PUBLISH', WAKE, '')
return 1
