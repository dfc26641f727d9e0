-- The file behind the main database: empty for in-memory and temporary databases, which
-- exist only inside their connection.
SELECT file FROM pragma_database_list WHERE name = 'main'
