-- Claims up to ARGV[1] jobs, best first, across the ready sets KEYS[13..] (every kind in
-- {name}:kinds when none are given).
--
-- ARGV[1] max jobs (<= 1000), ARGV[2] lease in ms, ARGV[3] keep_failed,
-- ARGV[4 .. 3+max] one fresh claim token per job, in claim order.
--
-- First promotes up to 1000 due delayed jobs. Then repeatedly takes the best head among
-- the ready sets (lowest score, then lowest member byte-wise): attempts + 1, a fresh
-- token, a lease measured on the server clock. A ready entry whose job is gone or no
-- longer pending is dropped; a job that cannot be read is set aside as failed.
--
-- Returns { {HGETALL of each claimed job}, {ids set aside}, {their reasons}, more }:
-- more is 1 when the call stopped short because it skipped as many stale or corrupt
-- entries as one call may, so ready jobs may be left behind them: the caller claims again.

local max = tonumber(ARGV[1])
local lease = bounded_delay(tonumber(ARGV[2]))
local keep_failed = tonumber(ARGV[3])
local now = now_ms()
promote(now, 1000, keep_failed)

-- The ready sets to look at.
local sets = {}
if #KEYS > 12 then
    for i = 13, #KEYS do
        sets[#sets + 1] = KEYS[i]
    end
else
    for _, kind in ipairs(redis.call('SRANDMEMBER', KINDS, 10000)) do
        sets[#sets + 1] = READY .. kind
    end
end

-- Byte-wise string order (Lua's `<` follows the server's locale).
local function lex_less(a, b)
    local n = math.min(#a, #b)
    for i = 1, n do
        local x, y = string.byte(a, i), string.byte(b, i)
        if x ~= y then
            return x < y
        end
    end
    return #a < #b
end

-- Up to `max` heads of each set, read once; pos[i] is the next unread pair.
local heads, pos = {}, {}
for i, key in ipairs(sets) do
    heads[i] = redis.call('ZRANGE', key, 0, max - 1, 'WITHSCORES')
    pos[i] = 1
    if #heads[i] == 0 and #KEYS == 12 then
        -- Nothing ready of this kind: forget it until a job of it becomes ready again.
        redis.call('SREM', KINDS, string.sub(key, #READY + 1))
    end
end

local claimed, aside, reasons = {}, {}, {}
local token_at = 4
-- Stale or corrupt entries are skipped, but at most this many per call.
local budget = max + 1000
while #claimed < max and budget > 0 do
    budget = budget - 1
    local best, best_score, best_member = nil, nil, nil
    for i = 1, #sets do
        local p = pos[i]
        if p > #heads[i] and #heads[i] == 2 * max then
            -- A full buffer ran out (skipped entries): read the next heads.
            heads[i] = redis.call('ZRANGE', sets[i], 0, max - 1, 'WITHSCORES')
            pos[i], p = 1, 1
        end
        local member = heads[i][p]
        if member then
            local score = tonumber(heads[i][p + 1])
            if best == nil or score < best_score
                or (score == best_score and lex_less(member, best_member)) then
                best, best_score, best_member = i, score, member
            end
        end
    end
    if best == nil then
        break
    end
    pos[best] = pos[best] + 2
    redis.call('ZREM', sets[best], best_member)

    local id = string.sub(best_member, 18)
    local jk = JOB .. id
    local f = core_fields(jk)
    if f[1] then
        local bad = defect(f)
        if bad then
            set_aside(id, jk, bad, now, keep_failed)
            aside[#aside + 1] = id
            reasons[#reasons + 1] = bad
        elseif f[1] == 'pending' then
            local deadline = after(now, lease)
            redis.call('HSET', jk,
                'state', 'running',
                'attempts', int(tonumber(f[5]) + 1),
                'token', ARGV[token_at],
                'lease_expires_at', int(deadline))
            token_at = token_at + 1
            redis.call('ZADD', RUNNING, deadline, id)
            redis.call('ZREM', IDX.pending, id)
            redis.call('ZADD', IDX.running, 0, id)
            claimed[#claimed + 1] = redis.call('HGETALL', jk)
        end
        -- Any other state: a stale ready entry, already removed.
    else
        -- The hash is gone: drop what is left of the job.
        redis.call('ZREM', IDX.pending, id)
    end
end

local more = 0
if budget == 0 and #claimed < max then
    more = 1
end
return { claimed, aside, reasons, more }
