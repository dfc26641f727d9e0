-- Pauses kind ?; pausing a paused kind changes nothing.
INSERT INTO `{table}_paused` (kind, paused_at)
VALUES (?, UTC_TIMESTAMP(6))
ON DUPLICATE KEY UPDATE kind = kind
