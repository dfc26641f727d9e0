-- Records a failed attempt of a claimed job, if ARGV[2] still holds its claim.
--
-- ARGV: id, token, error, base_ms, cap_ms (-1: no cap), jitter factor (0..1],
-- keep_failed, keep_cancelled. A job with a cancel request is cancelled (with the error).
-- Otherwise, with attempts left the job goes back to pending after
-- min(base * 2^min(attempts-1, 62), cap, MAX_DELAY_MS) * factor ms (the delayed set, or
-- its ready set when that is 0); else it fails with the error. Returns 1, or 0 when the
-- claim is lost.

local id, token, err = ARGV[1], ARGV[2], ARGV[3]
local base, cap, factor = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local keep_failed = tonumber(ARGV[7])
local jk = JOB .. id
local f = redis.call('HMGET', jk, 'state', 'token', 'kind', 'priority', 'attempts',
    'max_attempts', 'cancel_requested')
if f[1] ~= 'running' or f[2] ~= token then
    return 0
end
local now = now_ms()
if f[7] then
    finish(id, jk, 'running', 'cancelled', now, err, tonumber(ARGV[8]))
    return 1
end
local priority, attempts, max_attempts = tonumber(f[4]), tonumber(f[5]), tonumber(f[6])
if not (f[3] and priority and attempts and max_attempts) then
    set_aside(id, jk, 'unreadable fields at nack', now, keep_failed)
    return 1
end
redis.call('HSET', jk, 'last_error', err)
if attempts >= max_attempts then
    finish(id, jk, 'running', 'failed', now, err, keep_failed)
    return 1
end
-- The arguments come from a validated RetryPolicy, but a NaN or infinite wait must never
-- become a score: a base that is not a finite non-negative number counts as 0, a cap
-- that is not one as no cap, a factor outside 0..1 as 1; 2^exp stays finite, and
-- bounded_delay takes care of the rest (an overflow to infinity becomes the limit).
if not (base and base >= 0 and base < math.huge) then
    base = 0
end
if not (cap and cap >= 0 and cap < math.huge) then
    cap = -1
end
if not (factor and factor >= 0 and factor <= 1) then
    factor = 1
end
local exp = math.min(math.max(attempts - 1, 0), 62)
local wait = base * (2 ^ exp)
if cap >= 0 and wait > cap then
    wait = cap
end
wait = bounded_delay(bounded_delay(wait) * factor)
requeue(id, jk, f[3], priority, after(now, wait), now)
if wait == 0 then
    redis.call('PUBLISH', WAKE, '')
end
return 1
