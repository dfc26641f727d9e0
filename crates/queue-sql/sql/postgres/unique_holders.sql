-- Who holds each of these unique keys now.
SELECT unique_lock, id FROM {table} WHERE unique_lock = ANY($1::text[])
