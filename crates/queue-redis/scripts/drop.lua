-- Deletes the queue, at most ARGV[1] jobs per state (or unique keys scanned) per call.
-- ARGV[2] is the cursor of the unique-key sweep ('' before it starts). Returns 'done'
-- once every key of the queue is gone, else the ARGV[2] of the next call.

local limit = tonumber(ARGV[1])
local sweep = ARGV[2]
local left = 0
for _, index in pairs(IDX) do
    local ids = redis.call('ZPOPMIN', index, limit)
    for i = 1, #ids, 2 do
        local jk = JOB .. ids[i]
        -- Windowed keys too: nothing of the queue may be left behind.
        local key = redis.call('HGET', jk, 'unique_key')
        if key and redis.call('GET', UNIQUE .. key) == ids[i] then
            redis.call('DEL', UNIQUE .. key)
        end
        redis.call('DEL', jk)
    end
    left = left + redis.call('ZCARD', index)
end
if left > 0 then
    return sweep
end
for _, kind in ipairs(redis.call('SPOP', KINDS, limit)) do
    redis.call('DEL', READY .. kind)
end
if redis.call('SCARD', KINDS) > 0 then
    return sweep
end
-- A windowed key outlives its job when the job is deleted on completion or by
-- retention, so no job leads to it any more, and a rate window lives until it expires:
-- find whatever is left of the queue by name (every key starts with its `{name}:`). The
-- sweep is a bounded SCAN step per call; in a cluster it runs on the node of the
-- queue's slot.
if sweep == '' then
    sweep = '0'
end
local pattern = string.gsub(BASE, '[%*%?%[%]\\]', '\\%0') .. '*'
local page = redis.call('SCAN', sweep, 'MATCH', pattern, 'COUNT', limit)
for _, key in ipairs(page[2]) do
    redis.call('DEL', key)
end
if page[1] ~= '0' then
    return page[1]
end
-- Rate windows expire on their own; the limits go with the rest.
redis.call('DEL', DELAYED, RUNNING, PAUSED, LIMITS, FINISHED.completed, FINISHED.failed,
    FINISHED.cancelled)
return 'done'
