-- The limited kinds with their running jobs (leases unexpired) and the due jobs their
-- limits hold back: every due job of the kind less those a claim would take now (0 for a
-- paused kind). Read-only: the picks are counted, not taken; a scan of each limited
-- kind's ready set, as an admin read may afford.
--
-- Returns a flat { kind, limit, running, waiting, ... }.

local limits = read_limits()
if not limits then
    return {}
end
local now = now_ms()
local running = running_by_kind(limits, now)
local out = {}
for kind, lim in pairs(limits) do
    local set = READY .. kind
    local due = redis.call('ZCARD', set)
    local waiting = 0
    if redis.call('SISMEMBER', PAUSED, kind) == 0 and due > 0 then
        local picks = limited_picks(kind, lim, due, now, running[kind])
        waiting = due - #picks
    end
    out[#out + 1] = kind
    out[#out + 1] = redis.call('HGET', LIMITS, kind)
    out[#out + 1] = running[kind].total
    out[#out + 1] = waiting
end
return out
