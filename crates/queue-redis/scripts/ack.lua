-- Completes the claimed jobs whose (id, token) pairs still hold their claim.
--
-- ARGV[1] keep_completed (0 deletes completed jobs at once), then pairs id, token
-- (<= 1000 pairs). Returns one 1 (completed) or 0 (claim lost) per pair.
--
-- One read per job; the index writes (and the deletes) are one call per batch.

local keep = tonumber(ARGV[1])
local now = now_ms()
local out, done, seen = {}, {}, {}
for i = 2, #ARGV, 2 do
    local id, token = ARGV[i], ARGV[i + 1]
    local f = redis.call('HMGET', JOB .. id, 'state', 'token', 'unique_key', 'unique_hold')
    -- A lease given twice in one call completes the job once; the repeat has lost it.
    if f[1] == 'running' and f[2] == token and not seen[id] then
        seen[id] = true
        release_key(id, f[3], f[4])
        done[#done + 1] = id
        out[#out + 1] = 1
    else
        out[#out + 1] = 0
    end
end
finish_all(done, 'running', 'completed', now, nil, keep)
return out
