-- Milliseconds until the earliest delayed job falls due (0 when already due), or -1
-- when nothing is delayed. Read-only.

local first = redis.call('ZRANGE', DELAYED, 0, 0, 'WITHSCORES')
if #first == 0 then
    return -1
end
return math.max(tonumber(first[2]) - now_ms(), 0)
