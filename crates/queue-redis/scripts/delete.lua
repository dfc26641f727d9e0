-- Deletes a finished job (completed, failed or cancelled): its hash, its entries in the
-- state and FINISHED indexes, and the unique key it still holds (a window that outlived
-- the job). Pending, running and unknown jobs are left alone.
--
-- ARGV: id. Returns 1 when deleted, else 0.

local id = ARGV[1]
local f = redis.call('HMGET', JOB .. id, 'state', 'unique_key')
if not FINISHED[f[1]] then
    return 0
end
delete_finished(id, f[1], f[2])
return 1
