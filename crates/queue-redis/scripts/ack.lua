-- Completes the claimed jobs whose (id, token) pairs still hold their claim.
--
-- ARGV[1] keep_completed (0 deletes completed jobs at once), then pairs id, token
-- (<= 1000 pairs). Returns one 1 (completed) or 0 (claim lost) per pair.

local keep = tonumber(ARGV[1])
local now = now_ms()
local out = {}
for i = 2, #ARGV, 2 do
    local id, token = ARGV[i], ARGV[i + 1]
    local jk = JOB .. id
    local f = redis.call('HMGET', jk, 'state', 'token')
    if f[1] == 'running' and f[2] == token then
        finish(id, jk, 'running', 'completed', now, nil, keep)
        out[#out + 1] = 1
    else
        out[#out + 1] = 0
    end
end
return out
