-- Seconds until the next pending job of the kinds in $1 falls due (NULL: none scheduled
-- for later). The statement lives in migrate_3.sql.
SELECT {table}_next_due($1::text[])
