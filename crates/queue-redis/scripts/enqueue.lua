-- Enqueues ARGV[1] jobs atomically: either every one is stored (or resolved to the
-- holder of its unique key) or, on a duplicate id, none is.
--
-- ARGV[1] count (<= 1000), then 10 values per job:
--   id, kind, payload (JSON text), priority, max_attempts,
--   run_mode ('now' | 'after' | 'at'), run_value (ms: delay or absolute time; queue-core
--   checked both, the script still keeps them within MAX_DELAY_MS / years 1 to 9999),
--   unique spec ('' none, '0' held until the job ends, else the window in ms), unique key,
--   concurrency key ('' none)
--
-- KEYS[17], when given, is the stop flag of a call sent as several chunks in one
-- pipeline: a chunk that finds it set stores nothing and returns { 'skipped' }, and a
-- chunk refused for a duplicate id sets it (for a minute; the caller deletes it), so the
-- chunks after a refused one store nothing, as if they had been sent one by one.
--
-- Returns { 'ok', id1, id2, ... } (a duplicate gets its holder's id),
-- { 'exists', id } when a job with that id is already stored, or { 'skipped' }.

local STOP = KEYS[17]
if STOP and redis.call('EXISTS', STOP) == 1 then
    return { 'skipped' }
end

local n = tonumber(ARGV[1])
local now = now_ms()
local STRIDE = 10

-- Refuses the chunk because of the job `id`.
local function refuse(id)
    if STOP then
        redis.call('SET', STOP, '1', 'PX', 60000)
    end
    return { 'exists', id }
end

-- Pass 1, no writes: resolve unique keys and check ids.
local result = { 'ok' }
local taken = {}   -- unique keys taken earlier in this batch -> id
local fresh = {}   -- ids stored by this batch
local insert = {}  -- job index -> true when it is stored
local ids = {}     -- the ids stored, in order
local repeated = nil -- the first id given twice, where pass 1 stopped
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
        if fresh[id] then
            repeated = id
            break
        end
        fresh[id] = true
        insert[j] = true
        ids[#ids + 1] = id
        if spec ~= '' then
            taken[key] = id
        end
        result[#result + 1] = id
    end
end

-- One EXISTS for the batch; only when it finds some does a second look name the first.
local keys = {}
for i, id in ipairs(ids) do
    keys[i] = JOB .. id
end
local found = 0
for i = 1, #keys, BULK do
    found = found + redis.call('EXISTS', unpack(keys, i, math.min(i + BULK - 1, #keys)))
end
if found > 0 then
    for i, id in ipairs(ids) do
        if redis.call('EXISTS', keys[i]) == 1 then
            return refuse(id)
        end
    end
end
if repeated then
    return refuse(repeated)
end

-- Pass 2: store, one HSET per job, then one write per index for the batch.
local created = int(now)
local filing = new_filing()
local indexed = {}
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
        if spec == '' then
            redis.call('HSET', jk,
                'id', id, 'kind', kind, 'payload', payload,
                'priority', int(priority), 'attempts', '0', 'max_attempts', max_attempts,
                'created_at', created, 'scheduled_at', int(due), 'state', 'pending')
        else
            local hold = 'final'
            if spec == '0' then
                redis.call('SET', UNIQUE .. key, id)
            else
                redis.call('SET', UNIQUE .. key, id, 'PX', spec)
                hold = 'window'
            end
            redis.call('HSET', jk,
                'id', id, 'kind', kind, 'payload', payload,
                'priority', int(priority), 'attempts', '0', 'max_attempts', max_attempts,
                'created_at', created, 'scheduled_at', int(due), 'state', 'pending',
                'unique_key', key, 'unique_hold', hold)
        end
        if ARGV[b + 9] ~= '' then
            redis.call('HSET', jk, 'concurrency_key', ARGV[b + 9])
        end
        indexed[#indexed + 1] = 0
        indexed[#indexed + 1] = id
        file(filing, id, kind, priority, due, now)
    end
end
bulk('ZADD', IDX.pending, indexed)
flush(filing)

if #ids > 0 then
    redis.call('PUBLISH', WAKE, '')
end
return result
