-- Stores the limit ARGV[2] ("c|kc|rc|rms|krc|krms", see lib.lua) of kind ARGV[1], or
-- removes it when ARGV[2] is empty, and wakes idle workers of every process: a changed
-- limit may let their claims take more.

if ARGV[2] == '' then
    redis.call('HDEL', LIMITS, ARGV[1])
else
    redis.call('HSET', LIMITS, ARGV[1], ARGV[2])
end
redis.call('PUBLISH', WAKE, '')
return 1
