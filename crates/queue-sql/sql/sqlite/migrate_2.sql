-- Version 2: drops the (state, id) index. Every claim and every ack moved the job's entry
-- in it (a delete and an insert in one more B-tree per state change), which cost the
-- drain and bulk enqueue about a sixth of their throughput. The batch ack and heartbeat
-- find their rows by the primary key instead. Stats and listing by state, admin reads,
-- now walk the table or the primary key: a listing stops at its limit, so only a state
-- that is rare among many retained jobs makes it read far.
DROP INDEX IF EXISTS {table}_state_idx;
