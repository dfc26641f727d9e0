-- The database's clock, which every time of the queue is on.
SELECT UTC_TIMESTAMP(6)
