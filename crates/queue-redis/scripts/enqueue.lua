-- Enqueues ARGV[1] jobs atomically: either every one is stored (or resolved to the
-- holder of its unique key) or, on a duplicate id, none is.
--
-- ARGV[1] count (<= 1000), then 9 values per job:
--   id, kind, payload (JSON text), priority, max_attempts,
--   run_mode ('now' | 'after' | 'at'), run_value (ms: delay or absolute time; queue-core
--   checked both, the script still keeps them within MAX_DELAY_MS / years 1 to 9999),
--   unique spec ('' none, '0' held until the job ends, else the window in ms), unique key
--
-- Returns { 'ok', id1, id2, ... } (a duplicate gets its holder's id), or
-- { 'exists', id } when a job with that id is already stored.

local n = tonumber(ARGV[1])
local now = now_ms()
local STRIDE = 9

-- Pass 1, no writes: resolve unique keys and check ids.
local result = { 'ok' }
local taken = {}   -- unique keys taken earlier in this batch -> id
local fresh = {}   -- ids stored by this batch
local insert = {}  -- job index -> true when it is stored
for j = 0, n - 1 do
    local b = 2 + j * STRIDE
    local id, spec, key = ARGV[b], ARGV[b + 7], ARGV[b + 8]
    local holder = nil
    if spec ~= '' then
        holder = taken[key]
        if not holder then
            holder = unique_holder(UNIQUE .. key)
        end
    end
    if holder then
        result[#result + 1] = holder
    else
        if fresh[id] or redis.call('EXISTS', JOB .. id) == 1 then
            return { 'exists', id }
        end
        fresh[id] = true
        insert[j] = true
        if spec ~= '' then
            taken[key] = id
        end
        result[#result + 1] = id
    end
end

-- Pass 2: store.
local stored = 0
for j = 0, n - 1 do
    if insert[j] then
        local b = 2 + j * STRIDE
        local id, kind, payload = ARGV[b], ARGV[b + 1], ARGV[b + 2]
        local priority, max_attempts = tonumber(ARGV[b + 3]), ARGV[b + 4]
        local mode, value = ARGV[b + 5], tonumber(ARGV[b + 6])
        local spec, key = ARGV[b + 7], ARGV[b + 8]
        local due = now
        if mode == 'after' then
            due = after(now, value)
        elseif mode == 'at' then
            due = bounded_due(value)
        end
        local jk = JOB .. id
        redis.call('HSET', jk,
            'id', id, 'kind', kind, 'payload', payload,
            'priority', int(priority), 'attempts', '0', 'max_attempts', max_attempts,
            'created_at', int(now), 'scheduled_at', int(due), 'state', 'pending')
        if spec ~= '' then
            local uk = UNIQUE .. key
            if spec == '0' then
                redis.call('SET', uk, id)
                redis.call('HSET', jk, 'unique_key', key, 'unique_hold', 'final')
            else
                redis.call('SET', uk, id, 'PX', spec)
                redis.call('HSET', jk, 'unique_key', key, 'unique_hold', 'window')
            end
        end
        redis.call('ZADD', IDX.pending, 0, id)
        schedule(id, kind, priority, due, now)
        stored = stored + 1
    end
end

if stored > 0 then
    redis.call('PUBLISH', WAKE, '')
end
return result
