-- Deletes up to ARGV[3] jobs in the final state ARGV[1] that finished at least ARGV[2] ms
-- ago (server clock), the first to finish first (FINISHED is scored by finished_at; ties
-- by id), like delete.lua job by job. One script: nothing (a replay) can change a job
-- between the pick and the delete.
--
-- ARGV: state, older_than ms, limit. Returns how many were deleted.

local state, limit = ARGV[1], tonumber(ARGV[3])
local index = FINISHED[state]
if not index then
    return redis.error_reply('purge of a state that is not final: ' .. tostring(state))
end
local cutoff = now_ms() - bounded_delay(tonumber(ARGV[2]))
local deleted = 0
while deleted < limit do
    local ids = redis.call('ZRANGEBYSCORE', index, '-inf', cutoff, 'LIMIT', 0, limit - deleted)
    if #ids == 0 then
        break
    end
    for _, id in ipairs(ids) do
        local f = redis.call('HMGET', JOB .. id, 'state', 'unique_key')
        if f[1] == state then
            delete_finished(id, state, f[2])
            deleted = deleted + 1
        else
            -- A stale entry (the job is gone or moved on): dropped, not counted.
            redis.call('ZREM', index, id)
        end
    end
end
return deleted
