-- Claims up to ARGV[1] jobs, best first, across the ready sets KEYS[17..] (every kind in
-- {name}:kinds when none are given), except those of paused kinds: one read of the small
-- paused set per call, and a paused kind's ready set is not even looked at. Kinds with a
-- limit (LIMITS, see lib.lua) are claimed first, as far as their limits let them start
-- now (limited_picks); the rest of the batch comes from the other kinds, best first.
--
-- ARGV[1] max jobs (<= 1000), ARGV[2] lease in ms, ARGV[3] keep_failed,
-- ARGV[4 .. 3+max] one fresh claim token per job, in claim order.
--
-- First promotes up to 1000 due delayed jobs. Then repeatedly takes the best head among
-- the ready sets (lowest score, then lowest member byte-wise): attempts + 1, a fresh
-- token, a lease measured on the server clock. A ready entry whose job is gone or no
-- longer pending is dropped; a job that cannot be read is set aside as failed.
--
-- Returns { {one row per claimed job}, {ids set aside}, {their reasons}, more }: a row
-- holds id, kind, payload, priority, attempts, max_attempts, created_at, scheduled_at,
-- unique_key, last_error, token, lease_expires_at, concurrency_key (nil when absent), its
-- state is running;
-- more is 1 when the call stopped short because it skipped as many stale or corrupt
-- entries as one call may, so ready jobs may be left behind them: the caller claims again.

local max = tonumber(ARGV[1])
local lease = bounded_delay(tonumber(ARGV[2]))
local keep_failed = tonumber(ARGV[3])
local now = now_ms()
promote(now, 1000, keep_failed)

-- The ready sets to look at: not those of paused kinds; limited kinds apart.
local paused = {}
for _, kind in ipairs(redis.call('SMEMBERS', PAUSED)) do
    paused[READY .. kind] = true
end
local limits = read_limits()
local sets, limited = {}, {}
local function consider(set)
    if paused[set] then
        return
    end
    local kind = string.sub(set, #READY + 1)
    if limits and limits[kind] then
        limited[#limited + 1] = kind
    else
        sets[#sets + 1] = set
    end
end
if #KEYS > 16 then
    for i = 17, #KEYS do
        consider(KEYS[i])
    end
else
    for _, kind in ipairs(redis.call('SRANDMEMBER', KINDS, 10000)) do
        consider(READY .. kind)
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

local deadline = int(after(now, lease))
local claimed, aside, reasons = {}, {}, {}
-- Index writes gathered for the batch: RUNNING (deadline, id), and the ids leaving
-- state:pending.
local leased, left = {}, {}
local token_at = 4

-- Claims the job of the ready entry `member` (already removed from its set): returns its
-- token, or nil for a stale entry or a job set aside.
local function take(member)
    local id = string.sub(member, 18)
    local jk = JOB .. id
    -- The fields `defect` checks, then the rest of what the reply carries.
    local f = redis.call('HMGET', jk, 'state', 'kind', 'priority', 'scheduled_at',
        'attempts', 'max_attempts', 'payload', 'created_at', 'unique_key', 'last_error',
        'concurrency_key')
    if not f[1] then
        -- The hash is gone: drop what is left of the job.
        left[#left + 1] = id
        return nil
    end
    local bad = defect(f)
    if bad then
        set_aside(id, jk, bad, now, keep_failed)
        aside[#aside + 1] = id
        reasons[#reasons + 1] = bad
        return nil
    end
    if f[1] ~= 'pending' then
        -- A stale ready entry, removed with the others.
        return nil
    end
    local attempts = int(tonumber(f[5]) + 1)
    local token = ARGV[token_at]
    token_at = token_at + 1
    redis.call('HSET', jk,
        'state', 'running',
        'attempts', attempts,
        'token', token,
        'lease_expires_at', deadline)
    -- In the order of CLAIMED_FIELDS in src/claim.rs.
    claimed[#claimed + 1] = { id, f[2], f[7], f[3], attempts, f[6], f[8], f[4],
        f[9], f[10], token, deadline, f[11] }
    leased[#leased + 1] = deadline
    leased[#leased + 1] = id
    left[#left + 1] = id
    return token
end

-- Limited kinds first: they cannot take more than their limits, and would otherwise
-- wait behind a flood of other work.
local running = nil
for _, kind in ipairs(limited) do
    if #claimed >= max then
        break
    end
    local lim = limits[kind]
    if (lim.c or lim.kc) and not running then
        running = running_by_kind(limits, now)
    end
    local mine = (running and running[kind]) or { total = 0, per_key = {} }
    local picks, keys = limited_picks(kind, lim, max - #claimed, now, mine)
    bulk('ZREM', READY .. kind, picks)
    for i, member in ipairs(picks) do
        local token = take(member)
        if token then
            if lim.rc then
                record_start(rate_key(kind), lim.rms, now, token)
            end
            if lim.krc and keys[i] then
                record_start(rate_key(kind, keys[i]), lim.krms, now, token)
            end
        end
    end
end

-- Up to `max` heads of each set, read once; pos[i] is the next unread pair, taken[i] how
-- many entries from the front of set i this call used up (removed at the end, in one
-- step per set).
local heads, pos, taken = {}, {}, {}
for i, key in ipairs(sets) do
    heads[i] = redis.call('ZRANGE', key, 0, max - 1, 'WITHSCORES')
    pos[i], taken[i] = 1, 0
    if #heads[i] == 0 and #KEYS == 16 then
        -- Nothing ready of this kind: forget it until a job of it becomes ready again.
        redis.call('SREM', KINDS, string.sub(key, #READY + 1))
    end
end

-- Stale or corrupt entries are skipped, but at most this many per call.
local budget = max + 1000
while #claimed < max and budget > 0 do
    budget = budget - 1
    local best, best_score, best_member = nil, nil, nil
    for i = 1, #sets do
        local p = pos[i]
        if p > #heads[i] and #heads[i] == 2 * max then
            -- A full buffer ran out (skipped entries): read the next heads.
            heads[i] = redis.call('ZRANGE', sets[i], taken[i], taken[i] + max - 1, 'WITHSCORES')
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
    taken[best] = taken[best] + 1

    take(best_member)
end

-- The ready entries used up are the first taken[i] of each set: nothing else touched the
-- ready sets since they were read.
for i, key in ipairs(sets) do
    if taken[i] > 0 then
        redis.call('ZREMRANGEBYRANK', key, 0, taken[i] - 1)
    end
end
bulk('ZADD', RUNNING, leased)
bulk('ZREM', IDX.pending, left)

local more = 0
if budget == 0 and #claimed < max then
    more = 1
end
return { claimed, aside, reasons, more }
