-- Puts a claimed job back to run after ARGV[3] ms, giving back the claim's attempt,
-- if ARGV[2] still holds its claim. A job with a cancel request is cancelled instead (its
-- attempt stays counted).
--
-- ARGV: id, token, delay_ms (cut to MAX_DELAY_MS), keep_failed, keep_cancelled. Returns 1,
-- or 0 when the claim is lost.

local id, token, delay = ARGV[1], ARGV[2], bounded_delay(tonumber(ARGV[3]))
local jk = JOB .. id
local f = redis.call('HMGET', jk, 'state', 'token', 'kind', 'priority', 'attempts',
    'cancel_requested')
if f[1] ~= 'running' or f[2] ~= token then
    return 0
end
local now = now_ms()
if f[6] then
    finish(id, jk, 'running', 'cancelled', now, nil, tonumber(ARGV[5]))
    return 1
end
local priority, attempts = tonumber(f[4]), tonumber(f[5])
if not (f[3] and priority and attempts) then
    set_aside(id, jk, 'unreadable fields at snooze', now, tonumber(ARGV[4]))
    return 1
end
redis.call('HSET', jk, 'attempts', int(math.max(attempts - 1, 0)))
requeue(id, jk, f[3], priority, after(now, delay), now)
if delay == 0 then
    redis.call('PUBLISH', WAKE, '')
end
return 1
