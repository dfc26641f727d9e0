-- When the longest-waiting due job fell due: the earliest scheduled_at (ms) of the
-- pending jobs due now, paused kinds included, or -1 when none is due. Read-only.
--
-- Due jobs wait in their kind's ready set, or still in the delayed set until a claim or
-- the maintenance timer promotes them. The delayed set is ordered by due time: its first
-- entry is its earliest. A ready set is ordered by -priority, then by member, which
-- starts with the zero-padded due time: the earliest of a priority is the first entry of
-- that score. So each ready set is walked score by score (one ZRANGEBYSCORE each): a few
-- reads per kind and priority in use, however many jobs wait. The winner's own
-- scheduled_at is returned (a member holds 0 for a time before 1970).

local now = now_ms()
local oldest, oldest_id = nil, nil
local first = redis.call('ZRANGE', DELAYED, 0, 0, 'WITHSCORES')
if #first > 0 and tonumber(first[2]) <= now then
    oldest, oldest_id = tonumber(first[2]), first[1]
end
for _, kind in ipairs(redis.call('SMEMBERS', KINDS)) do
    local set = READY .. kind
    local head = redis.call('ZRANGE', set, 0, 0, 'WITHSCORES')
    while #head > 0 do
        local due = tonumber(string.sub(head[1], 1, 16))
        if due and (oldest == nil or due < oldest) then
            oldest, oldest_id = due, string.sub(head[1], 18)
        end
        head = redis.call('ZRANGEBYSCORE', set, '(' .. head[2], '+inf', 'WITHSCORES',
            'LIMIT', 0, 1)
    end
end
if oldest == nil then
    return -1
end
local exact = tonumber(redis.call('HGET', JOB .. oldest_id, 'scheduled_at'))
return exact or oldest
