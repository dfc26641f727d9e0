-- A counter of this connection that changes whenever another connection (of this process
-- or any other) commits to the file; its own commits leave it alone. Reads the WAL index
-- header only, never a table.
PRAGMA data_version
