"""Storage: the database engine, the stored shapes and every query.

`engine` opens the database (SQLite by default, PostgreSQL for several app
servers) and its sessions, `models` the tables, `queries` what the app reads
and writes, `driver_sql` the hot writes as plain SQL, `sqlite_locks` how a
gevent worker waits for SQLite's write lock, and `migrate` with
`migrations/` the schema (Alembic). It must not know HTTP or HTML.
"""
