-- Completes the claimed jobs whose (id, token) pairs still hold their claim, like
-- ack.lua, and keeps each one's output in its hash (field `output`, JSON text).
--
-- ARGV[1] keep_completed (0 deletes completed jobs at once, outputs with them), then
-- triples id, token, output (<= 1000 triples; '' for no output: JSON text is never
-- empty). Returns one 1 (completed) or 0 (claim lost) per triple.
--
-- A job's output goes with its hash when retention evicts it.

local keep = tonumber(ARGV[1])
local now = now_ms()
local out, done, seen = {}, {}, {}
for i = 2, #ARGV, 3 do
    local id, token, output = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local f = redis.call('HMGET', JOB .. id, 'state', 'token', 'unique_key', 'unique_hold')
    -- A lease given twice in one call completes the job once; the repeat has lost it.
    if f[1] == 'running' and f[2] == token and not seen[id] then
        seen[id] = true
        release_key(id, f[3], f[4])
        -- Written before finish_all, which may evict the hash at once.
        if output ~= '' and keep > 0 then
            redis.call('HSET', JOB .. id, 'output', output)
        end
        done[#done + 1] = id
        out[#out + 1] = 1
    else
        out[#out + 1] = 0
    end
end
finish_all(done, 'running', 'completed', now, nil, keep)
return out
