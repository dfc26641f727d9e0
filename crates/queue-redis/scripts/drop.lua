-- Deletes the queue, at most ARGV[1] jobs per state per call. Returns 1 once every key
-- of the queue is gone, 0 when the caller must call again.

local limit = tonumber(ARGV[1])
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
    return 0
end
for _, kind in ipairs(redis.call('SPOP', KINDS, limit)) do
    redis.call('DEL', READY .. kind)
end
if redis.call('SCARD', KINDS) > 0 then
    return 0
end
redis.call('DEL', DELAYED, RUNNING)
return 1
