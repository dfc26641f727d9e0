-- Counts per state, as kept by the queue's statements and triggers (migration 4).
SELECT state, n FROM {table}_counts
