-- Fails a claimed job now, whatever attempts remain, if ARGV[2] still holds its claim.
-- Also used to set aside a claimed job whose body could not be decoded.
--
-- A job with a cancel request is cancelled instead (with the reason).
--
-- ARGV: id, token, reason, keep_failed, keep_cancelled. Returns 1, or 0 when the claim is
-- lost.

local id, token, reason = ARGV[1], ARGV[2], ARGV[3]
local keep_failed = tonumber(ARGV[4])
local jk = JOB .. id
local f = redis.call('HMGET', jk, 'state', 'token', 'cancel_requested')
if f[1] ~= 'running' or f[2] ~= token then
    return 0
end
if f[3] then
    finish(id, jk, 'running', 'cancelled', now_ms(), reason, tonumber(ARGV[5]))
    return 1
end
finish(id, jk, 'running', 'failed', now_ms(), reason, keep_failed)
return 1
