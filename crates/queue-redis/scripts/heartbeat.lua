-- Extends the leases still held by the (id, token) pairs to now + ARGV[1] ms.
--
-- ARGV[1] lease in ms, then pairs id, token (<= 1000 pairs). Returns one 1 (held,
-- extended), 2 (held and extended, but a cancel was requested) or 0 (lost) per pair.

local deadline = int(after(now_ms(), tonumber(ARGV[1])))
local out, leased = {}, {}
for i = 2, #ARGV, 2 do
    local id, token = ARGV[i], ARGV[i + 1]
    local jk = JOB .. id
    local f = redis.call('HMGET', jk, 'state', 'token', 'cancel_requested')
    if f[1] == 'running' and f[2] == token then
        redis.call('HSET', jk, 'lease_expires_at', deadline)
        leased[#leased + 1] = deadline
        leased[#leased + 1] = id
        if f[3] then
            out[#out + 1] = 2
        else
            out[#out + 1] = 1
        end
    else
        out[#out + 1] = 0
    end
end
bulk('ZADD', RUNNING, leased)
return out
