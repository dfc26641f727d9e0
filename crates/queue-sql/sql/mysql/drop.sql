-- Drops the queue's tables.
DROP TABLE IF EXISTS `{table}`, `{table}_paused`, `{table}_wake`, `{table}_limits`,
    `{table}_starts`, `{table}_migrations`
