-- Which schema versions of {table} are applied.
CREATE TABLE IF NOT EXISTS `{table}_migrations` (
    version    INT         NOT NULL PRIMARY KEY,
    applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE = InnoDB
