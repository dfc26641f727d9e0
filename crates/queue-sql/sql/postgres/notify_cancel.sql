-- Tells the workers of every process listening on the table's channel ($1) that job $2
-- has a cancel request. Wake-ups carry an empty payload; this one names the job.
SELECT pg_notify($1, 'cancel ' || $2)
