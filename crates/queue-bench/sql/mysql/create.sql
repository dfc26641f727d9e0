-- The raw baseline's table: the least a durable queue needs, an ordered key and a payload.
CREATE TABLE {table} (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    payload JSON NOT NULL
) ENGINE = InnoDB
