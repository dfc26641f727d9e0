-- Records starts of kind ? now, one per key in ? (a JSON array; '' for a job without
-- one), for the rate windows.
INSERT INTO `{table}_starts` (kind, ckey, at)
SELECT ?, s.ckey, UTC_TIMESTAMP(6)
FROM JSON_TABLE(?, '$[*]' COLUMNS (ckey VARBINARY(255) PATH '$')) AS s
