-- Forgets the starts of kind ? older than ? microseconds (its longest window): they no
-- longer count.
DELETE FROM `{table}_starts`
WHERE kind = ?
  AND at <= UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND
