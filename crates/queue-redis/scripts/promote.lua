-- Moves up to ARGV[1] due delayed jobs into their ready sets and wakes idle workers
-- when any moved. Claims do the same on their own; this runs from the maintenance timer
-- so that workers of other processes are woken when a delayed job falls due.
--
-- ARGV: limit, keep_failed. Returns { moved, 1 when more may be due, ms until the next
-- delayed job is due or -1 when none is delayed }.

local limit = tonumber(ARGV[1])
local now = now_ms()
local moved = promote(now, limit, tonumber(ARGV[2]))
if moved > 0 then
    redis.call('PUBLISH', WAKE, '')
end
local more = 0
if moved == limit then
    more = 1
end
local next_ms = -1
local first = redis.call('ZRANGE', DELAYED, 0, 0, 'WITHSCORES')
if #first > 0 then
    next_ms = math.max(tonumber(first[2]) - now, 0)
end
return { moved, more, int(next_ms) }
