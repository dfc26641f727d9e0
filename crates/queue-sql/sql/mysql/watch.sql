-- What the watch compares between ticks: the newest job id (a new enqueue) and the wake
-- counter (other writes that make jobs due). Two index lookups.
SELECT (SELECT id FROM `{table}` ORDER BY id DESC LIMIT 1),
       (SELECT n FROM `{table}_wake` WHERE one = 1)
