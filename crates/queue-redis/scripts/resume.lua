-- Resumes kind ARGV[1] and wakes idle workers of every process, whose claims now take
-- its jobs. Resuming a kind that is not paused changes nothing (and wakes them anyway).

redis.call('SREM', PAUSED, ARGV[1])
redis.call('PUBLISH', WAKE, '')
return 1
