-- Cancels a pending job (waiting or scheduled) at once. On a running job records a cancel
-- request (field cancel_requested) and announces it on the wake channel as
-- "cancel <id>", for the worker holding it; a nack, discard, snooze or reclaim of the
-- job then ends it cancelled. Finished jobs are left alone.
--
-- ARGV: id, keep_cancelled. Returns 1 when cancelled, 2 when requested, else 0.

local id = ARGV[1]
local jk = JOB .. id
local f = redis.call('HMGET', jk, 'state', 'kind', 'scheduled_at')
if f[1] == 'running' then
    redis.call('HSET', jk, 'cancel_requested', 1)
    redis.call('PUBLISH', WAKE, 'cancel ' .. id)
    return 2
end
if f[1] ~= 'pending' then
    return 0
end
redis.call('ZREM', DELAYED, id)
if f[2] and tonumber(f[3]) then
    redis.call('ZREM', READY .. f[2], ready_member(tonumber(f[3]), id))
end
finish(id, jk, 'pending', 'cancelled', now_ms(), nil, tonumber(ARGV[2]))
return 1
