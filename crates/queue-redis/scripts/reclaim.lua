-- Handles up to ARGV[1] leases that ran out (deadline < now, server clock), oldest
-- first: back to pending due now, or failed with ARGV[2] when the attempts are used up,
-- or cancelled when a cancel was requested (the worker died before it could).
-- Each entry is removed from the running set in the same step, so concurrent
-- reclaimers never handle one twice, and a late ack finds the token gone.
--
-- ARGV: limit, reason, keep_failed, keep_cancelled. Returns { handled, 1 when more may be expired,
-- ms until the next lease deadline or -1 when nothing runs }.

local limit, reason, keep_failed = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local keep_cancelled = tonumber(ARGV[4])
local now = now_ms()
-- Strictly before now: times are whole ms, so a lease is never cut short by rounding.
local expired = redis.call('ZRANGEBYSCORE', RUNNING, '-inf', '(' .. int(now), 'LIMIT', 0, limit)
local handled, requeued = 0, 0
for _, id in ipairs(expired) do
    redis.call('ZREM', RUNNING, id)
    local jk = JOB .. id
    local f = core_fields(jk)
    if f[1] == 'running' then
        local bad = defect(f)
        if bad then
            set_aside(id, jk, bad, now, keep_failed)
        elseif redis.call('HEXISTS', jk, 'cancel_requested') == 1 then
            finish(id, jk, 'running', 'cancelled', now, nil, keep_cancelled)
        elseif tonumber(f[5]) >= tonumber(f[6]) then
            finish(id, jk, 'running', 'failed', now, reason, keep_failed)
        else
            requeue(id, jk, f[2], tonumber(f[3]), now, now)
            requeued = requeued + 1
        end
        handled = handled + 1
    end
end
if requeued > 0 then
    redis.call('PUBLISH', WAKE, '')
end
local more = 0
if #expired == limit then
    more = 1
end
local next_ms = -1
local first = redis.call('ZRANGE', RUNNING, 0, 0, 'WITHSCORES')
if #first > 0 then
    next_ms = math.max(tonumber(first[2]) + 1 - now, 0)
end
return { handled, more, int(next_ms) }
