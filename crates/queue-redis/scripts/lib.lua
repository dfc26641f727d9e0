-- Shared prelude, prepended to every script of this crate.
--
-- Every script receives the same first sixteen KEYS, all carrying the queue's `{name}` hash
-- tag so that one script only ever touches one Redis Cluster slot:
--
--   KEYS[1]  {name}:job:        prefix of the job hashes ({name}:job:<id>)
--   KEYS[2]  {name}:ready:      prefix of the per-kind ready sets ({name}:ready:<kind>)
--   KEYS[3]  {name}:unique:     prefix of the unique-key strings ({name}:unique:<key>)
--   KEYS[4]  {name}:delayed     ZSET  id by due time (ms)
--   KEYS[5]  {name}:running     ZSET  id by lease deadline (ms), also the state index of
--                                     running jobs (see KEYS[7])
--   KEYS[6]  {name}:state:pending    \
--   KEYS[8]  {name}:state:completed   |  ZSETs of ids, all scored 0, so ordered by id
--   KEYS[9]  {name}:state:failed      |  (ULIDs sort by creation): list_jobs reads them
--   KEYS[10] {name}:state:cancelled  /   newest first, stats takes their ZCARDs, and
--                                        retention pops their oldest members
--   KEYS[7]  {name}:running     KEYS[5] again: running jobs have no index of their own,
--                               which would cost a write per job at every claim and ack;
--                               list_jobs sorts them by id itself
--   KEYS[11] {name}:kinds       SET   kinds that may have ready jobs
--   KEYS[12] {name}:wake        pub/sub channel that wakes idle workers
--   KEYS[13] {name}:paused      SET   kinds paused by pause_kind: no claim takes their jobs
--   KEYS[14] {name}:finished:completed  \  ZSETs of the ids in the matching state:* index,
--   KEYS[15] {name}:finished:failed      |  scored by finished_at (ms): purge takes the
--   KEYS[16] {name}:finished:cancelled  /   first to finish first. Kept in step with the
--                                           state index by every script that moves a job
--                                           into or out of a final state
--
-- Keys derived from the three prefixes (a job hash, a ready set, a unique key) keep the
-- same hash tag, so they live in the same slot as the declared keys.
--
-- A ready set is scored by -priority (exact for any i32) and its members are
-- "<scheduled_at ms, 16 zero-padded digits>:<id>". Members of equal score sort
-- byte-wise, so a set orders by priority desc, then scheduled_at, then id, with no
-- precision lost to doubles.

local JOB, READY, UNIQUE = KEYS[1], KEYS[2], KEYS[3]
local DELAYED, RUNNING = KEYS[4], KEYS[5]
local IDX = {
    pending = KEYS[6],
    running = RUNNING,
    completed = KEYS[8],
    failed = KEYS[9],
    cancelled = KEYS[10],
}
local KINDS, WAKE, PAUSED = KEYS[11], KEYS[12], KEYS[13]
local FINISHED = {
    completed = KEYS[14],
    failed = KEYS[15],
    cancelled = KEYS[16],
}

-- The server clock in whole milliseconds.
local function now_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The longest delay, snooze, backoff or lease (ms): queue_core::MAX_DELAY, about 1,000
-- years. Longer ones are cut to it.
local MAX_DELAY_MS = 31622400000000
-- The range of due times and deadlines (ms since the epoch): years 1 to 9999, what every
-- backend and the decoder can represent. All are exact integers as Lua numbers (< 2^53),
-- and as sorted-set scores.
local MIN_DUE_MS = -62135596800000
local MAX_DUE_MS = 253402300799999

-- `ms` as a whole number of ms within 0..MAX_DELAY_MS. NaN (which would fail a ZADD
-- halfway through a script and strand the job in no set) counts as 0, infinity as the
-- limit.
local function bounded_delay(ms)
    if ms == nil or ms ~= ms or ms <= 0 then
        return 0
    end
    if ms > MAX_DELAY_MS then
        return MAX_DELAY_MS
    end
    return math.floor(ms)
end

-- A due time or deadline as a whole number of ms within MIN_DUE_MS..MAX_DUE_MS.
local function bounded_due(ms)
    if ms == nil or ms ~= ms then
        return 0
    end
    if ms < MIN_DUE_MS then
        return MIN_DUE_MS
    end
    if ms > MAX_DUE_MS then
        return MAX_DUE_MS
    end
    return math.floor(ms)
end

-- `now` plus a delay in ms (see bounded_delay), within the range of due times.
local function after(now, ms)
    return bounded_due(now + bounded_delay(ms))
end

-- An integer as a decimal string (tostring would switch to exponents).
local function int(x)
    return string.format('%d', x)
end

-- The ready-set member of a job.
local function ready_member(sched_ms, id)
    if sched_ms < 0 then
        sched_ms = 0
    end
    return string.format('%016d', sched_ms) .. ':' .. id
end

-- The id of the job holding the unique key `uk`, or nil when it is free. A key held until
-- its job ends (no expiry) is stale, so free, once that job is gone or final.
local function unique_holder(uk)
    local current = redis.call('GET', uk)
    if current and redis.call('PTTL', uk) == -1 then
        local state = redis.call('HGET', JOB .. current, 'state')
        if state ~= 'pending' and state ~= 'running' then
            return nil
        end
    end
    return current
end

-- Deletes the unique key `key` of job `id` whenever this job holds it, a window that
-- outlived the job included: the job is being deleted. `key` may be false.
local function drop_key(id, key)
    if key then
        local uk = UNIQUE .. key
        if redis.call('GET', uk) == id then
            redis.call('DEL', uk)
        end
    end
end

-- Deletes the finished job `id` in `state` (final) from its hash, its indexes and the
-- unique key it still holds. `key` is its unique_key field (may be false).
local function delete_finished(id, state, key)
    drop_key(id, key)
    redis.call('ZREM', IDX[state], id)
    redis.call('ZREM', FINISHED[state], id)
    redis.call('DEL', JOB .. id)
end

-- Deletes the unique key `key` of job `id` when it is held until the job ends (`hold` is
-- 'final') and this job still holds it. `key` and `hold` are the job's fields (may be
-- false).
local function release_key(id, key, hold)
    if key and hold == 'final' then
        local uk = UNIQUE .. key
        if redis.call('GET', uk) == id then
            redis.call('DEL', uk)
        end
    end
end

-- release_key, reading the fields from the job hash `jk`.
local function release_unique(id, jk)
    local f = redis.call('HMGET', jk, 'unique_key', 'unique_hold')
    release_key(id, f[1], f[2])
end

-- Values per command of a bulk write: one call per batch rather than one per job, in
-- steps because Lua's unpack takes at most a few thousand values. Even, so score/member
-- pairs never straddle two calls.
local BULK = 2000

-- Runs `cmd key v1 v2 ...` over the flat list `values` (`cmd v1 v2 ...` when `key` is
-- nil), in steps of BULK values; nothing when the list is empty.
local function bulk(cmd, key, values)
    local n = #values
    for i = 1, n, BULK do
        local last = math.min(i + BULK - 1, n)
        if key then
            redis.call(cmd, key, unpack(values, i, last))
        else
            redis.call(cmd, unpack(values, i, last))
        end
    end
end

-- Keeps at most `keep` jobs in the index of the final `state`: pops the oldest (lowest
-- ids), at most 100 more than the `added` jobs this call put there, and deletes their
-- hashes and their entries in FINISHED.
local function evict(state, keep, added)
    local index = IDX[state]
    local over = redis.call('ZCARD', index) - keep
    if over > 0 then
        if over > added + 100 then
            over = added + 100
        end
        local gone = redis.call('ZPOPMIN', index, over)
        local keys, ids = {}, {}
        for i = 1, #gone, 2 do
            keys[#keys + 1] = JOB .. gone[i]
            ids[#ids + 1] = gone[i]
        end
        bulk('DEL', nil, keys)
        bulk('ZREM', FINISHED[state], ids)
    end
end

-- Kinds already added to KINDS by this script run: a batch adds each kind once.
local kinds_added = {}

-- A batch of pending jobs to put where a claim finds them, filed job by job and written
-- by `flush` with one ZADD per set.
local function new_filing()
    return { ready = {}, kinds = {}, delayed = {} }
end

-- Files a pending job: its kind's ready set when due, else the delayed set.
local function file(b, id, kind, priority, due, now)
    if due <= now then
        local set = b.ready[kind]
        if not set then
            set = {}
            b.ready[kind] = set
            b.kinds[#b.kinds + 1] = kind
        end
        set[#set + 1] = -priority
        set[#set + 1] = ready_member(due, id)
    else
        b.delayed[#b.delayed + 1] = due
        b.delayed[#b.delayed + 1] = id
    end
end

-- Writes a filing: the ready sets, the kinds not yet in KINDS, the delayed set.
local function flush(b)
    local new_kinds = {}
    for _, kind in ipairs(b.kinds) do
        bulk('ZADD', READY .. kind, b.ready[kind])
        if not kinds_added[kind] then
            kinds_added[kind] = true
            new_kinds[#new_kinds + 1] = kind
        end
    end
    bulk('SADD', KINDS, new_kinds)
    bulk('ZADD', DELAYED, b.delayed)
end

-- Puts one pending job where a claim finds it.
local function schedule(id, kind, priority, due, now)
    local b = new_filing()
    file(b, id, kind, priority, due, now)
    flush(b)
end

-- Moves the jobs `ids` (each checked to be in state `from`, its unique key already
-- released) to the final state `to`, with one write per index for the batch; `keep`
-- bounds the retained jobs of that state (0 deletes the jobs at once). `err` (may be
-- nil) becomes last_error.
local function finish_all(ids, from, to, now, err, keep)
    if #ids == 0 then
        return
    end
    bulk('ZREM', IDX[from], ids)
    if from ~= 'running' then
        bulk('ZREM', RUNNING, ids)
    end
    if keep <= 0 then
        local keys = {}
        for i, id in ipairs(ids) do
            keys[i] = JOB .. id
        end
        bulk('DEL', nil, keys)
        return
    end
    local at = int(now)
    local scored, by_time = {}, {}
    for _, id in ipairs(ids) do
        local jk = JOB .. id
        if err then
            redis.call('HSET', jk, 'state', to, 'finished_at', at, 'last_error', err)
        else
            redis.call('HSET', jk, 'state', to, 'finished_at', at)
        end
        redis.call('HDEL', jk, 'token', 'lease_expires_at')
        scored[#scored + 1] = 0
        scored[#scored + 1] = id
        by_time[#by_time + 1] = at
        by_time[#by_time + 1] = id
    end
    bulk('ZADD', IDX[to], scored)
    bulk('ZADD', FINISHED[to], by_time)
    evict(to, keep, #ids)
end

-- Moves one job from state `from` to the final state `to` (see finish_all).
local function finish(id, jk, from, to, now, err, keep)
    release_unique(id, jk)
    finish_all({ id }, from, to, now, err, keep)
end

-- Returns a running job to pending, due at `due`.
local function requeue(id, jk, kind, priority, due, now)
    redis.call('ZREM', RUNNING, id)
    redis.call('ZADD', IDX.pending, 0, id)
    redis.call('HSET', jk, 'state', 'pending', 'scheduled_at', int(due))
    redis.call('HDEL', jk, 'token', 'lease_expires_at')
    schedule(id, kind, priority, due, now)
end

-- Sets a job that cannot be read aside: failed, with the reason, out of every other
-- index, so it never blocks the queue and stays visible to admins.
local function set_aside(id, jk, reason, now, keep_failed)
    release_unique(id, jk)
    for _, index in pairs(IDX) do
        redis.call('ZREM', index, id)
    end
    for _, index in pairs(FINISHED) do
        redis.call('ZREM', index, id)
    end
    redis.call('ZREM', DELAYED, id)
    redis.call('HSET', jk, 'id', id, 'state', 'failed', 'finished_at', int(now),
        'last_error', 'corrupt job: ' .. reason)
    redis.call('HDEL', jk, 'token', 'lease_expires_at')
    redis.call('ZADD', IDX.failed, 0, id)
    redis.call('ZADD', FINISHED.failed, now, id)
    evict('failed', keep_failed, 1)
end

-- Why a job hash cannot be scheduled or claimed, or nil when it can. `f` holds the
-- fields state, kind, priority, scheduled_at, attempts, max_attempts.
local function defect(f)
    local state = f[1]
    if state ~= 'pending' and state ~= 'running' and state ~= 'completed'
        and state ~= 'failed' and state ~= 'cancelled' then
        return 'unknown state ' .. tostring(state)
    end
    if not f[2] or f[2] == '' then
        return 'missing kind'
    end
    if not tonumber(f[3]) then
        return 'bad priority'
    end
    if not tonumber(f[4]) then
        return 'bad scheduled_at'
    end
    if not tonumber(f[5]) then
        return 'bad attempts'
    end
    if not tonumber(f[6]) then
        return 'bad max_attempts'
    end
    return nil
end

-- The fields `defect` checks, in its order.
local function core_fields(jk)
    return redis.call('HMGET', jk, 'state', 'kind', 'priority', 'scheduled_at', 'attempts',
        'max_attempts')
end

-- Moves up to `limit` due delayed jobs into their ready sets; returns how many.
local function promote(now, limit, keep_failed)
    local due = redis.call('ZRANGEBYSCORE', DELAYED, '-inf', now, 'LIMIT', 0, limit)
    if #due == 0 then
        return 0
    end
    bulk('ZREM', DELAYED, due)
    local b = new_filing()
    for _, id in ipairs(due) do
        local jk = JOB .. id
        local f = core_fields(jk)
        if f[1] then
            local bad = defect(f)
            if bad then
                set_aside(id, jk, bad, now, keep_failed)
            elseif f[1] == 'pending' then
                file(b, id, f[2], tonumber(f[3]), tonumber(f[4]), now)
            end
        end
    end
    flush(b)
    return #due
end

-- Limits (Queue::set_limit) --------------------------------------------------------------
--
-- LIMITS is a hash of kind -> "c|kc|rc|rms|krc|krms" (concurrency, per-key concurrency,
-- rate count and window in ms, per-key rate count and window; empty parts are unset).
-- Recent starts of a rated kind (or key) are a sorted set of claim tokens scored by start
-- time, expiring with its window: rate:<#kind>:<kind>[:<key>], the length keeping kinds
-- and keys apart whatever they contain. Running jobs are counted from RUNNING itself, so
-- no settle script has anything to keep up to date and a lost lease frees its slot the
-- moment it expires.
local BASE = string.sub(JOB, 1, #JOB - 4)
local LIMITS = BASE .. 'limits'
local RATE = BASE .. 'rate:'

-- A stored limit as a table of numbers (absent parts are nil).
local function parse_limit(s)
    local parts, n = {}, 0
    for part in string.gmatch(s .. '|', '([^|]*)|') do
        n = n + 1
        parts[n] = tonumber(part)
    end
    return { c = parts[1], kc = parts[2], rc = parts[3], rms = parts[4], krc = parts[5],
        krms = parts[6] }
end

-- The stored limits by kind; nil when there are none (the usual case: one HGETALL).
local function read_limits()
    local flat = redis.call('HGETALL', LIMITS)
    if #flat == 0 then
        return nil
    end
    local limits = {}
    for i = 1, #flat, 2 do
        limits[flat[i]] = parse_limit(flat[i + 1])
    end
    return limits
end

-- The sorted set of recent starts of `kind`, or of its concurrency key `key`.
local function rate_key(kind, key)
    local k = RATE .. #kind .. ':' .. kind
    if key then
        k = k .. ':' .. key
    end
    return k
end

-- Starts left in the window of `ms` ending now, of at most `count` per window.
local function rate_room(rk, count, ms, now)
    redis.call('ZREMRANGEBYSCORE', rk, '-inf', now - ms)
    return count - redis.call('ZCARD', rk)
end

-- Counts a start: `token` (unique per claim) at `now`, kept for the window.
local function record_start(rk, ms, now, token)
    redis.call('ZADD', rk, now, token)
    redis.call('PEXPIRE', rk, ms)
end

-- The running jobs with unexpired leases per limited kind: { total, per_key = {} }.
-- One pass over the leases still held; O(running jobs), and only for a claim that
-- meets a kind limited by count.
local function running_by_kind(limits, now)
    local out = {}
    for kind in pairs(limits) do
        out[kind] = { total = 0, per_key = {} }
    end
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', RUNNING, '(' .. now, '+inf')) do
        local f = redis.call('HMGET', JOB .. id, 'kind', 'concurrency_key')
        local r = f[1] and out[f[1]]
        if r then
            r.total = r.total + 1
            if f[2] then
                r.per_key[f[2]] = (r.per_key[f[2]] or 0) + 1
            end
        end
    end
    return out
end

-- Ready entries of a limited kind a claim looks at, at most, past jobs of keys at their
-- limit: a bound on the script's run time, so a key with a vast backlog cannot stall
-- the server. Jobs of other keys further back wait for the key's backlog to shrink.
local LIMITED_SCAN = 20000

-- Up to `max` ready members of the limited kind `kind` that its limit `lim` lets start
-- now, in claim order: the jobs of a key at its limit are stepped over, and the scan
-- stops when the kind itself is at its limit. `running` is its running_by_kind entry.
-- Returns the members and each one's concurrency key (false when it has none).
local function limited_picks(kind, lim, max, now, running)
    local room = max
    if lim.c then
        room = math.min(room, lim.c - running.total)
    end
    if lim.rc then
        room = math.min(room, rate_room(rate_key(kind), lim.rc, lim.rms, now))
    end
    local picks, keys = {}, {}
    if room <= 0 then
        return picks, keys
    end
    local by_key = lim.kc or lim.krc
    local key_room = {}
    local set = READY .. kind
    local offset, scanned = 0, 0
    while #picks < room and scanned < LIMITED_SCAN do
        local members = redis.call('ZRANGE', set, offset, offset + 199)
        if #members == 0 then
            break
        end
        offset = offset + #members
        for _, member in ipairs(members) do
            scanned = scanned + 1
            local key = false
            local ok = true
            if by_key then
                key = redis.call('HGET', JOB .. string.sub(member, 18), 'concurrency_key')
                if key then
                    local left = key_room[key]
                    if left == nil then
                        left = math.huge
                        if lim.kc then
                            left = lim.kc - (running.per_key[key] or 0)
                        end
                        if lim.krc then
                            left = math.min(left,
                                rate_room(rate_key(kind, key), lim.krc, lim.krms, now))
                        end
                    end
                    ok = left > 0
                    if ok then
                        left = left - 1
                    end
                    key_room[key] = left
                end
            end
            if ok then
                picks[#picks + 1] = member
                keys[#keys + 1] = key
                if #picks >= room then
                    break
                end
            end
        end
    end
    return picks, keys
end
