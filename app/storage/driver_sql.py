"""SQL text run on the database driver's own cursor, for the writes every answer makes.

Through SQLAlchemy Core a statement costs about 60 µs of CPU (its parameters,
an execution context, a result object); the driver itself needs a few. Every
message sent makes four such writes (its question and answer rows, a
checkpoint, its end), and in a burst that CPU is what the next person's first
byte waits behind (docs/benchmarks.md, "Setup cost"). So those statements are
plain SQL, run inside the caller's SQLAlchemy transaction, which still commits
or rolls back. Everything else goes through SQLAlchemy.

The SQL uses `:name` parameters (sqlite3's named style); for psycopg they are
rewritten once to `%(name)s`. Only SQLite and PostgreSQL are supported, and
`check_supported` says so at start-up.
"""

import re
from functools import lru_cache

from sqlalchemy import DateTime

SUPPORTED_DIALECTS = ("sqlite", "postgresql")
_NAMED_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


def check_supported(dialect):
    if dialect.name not in SUPPORTED_DIALECTS:
        raise ValueError(f"{dialect.name} is not supported: use SQLite or PostgreSQL")


@lru_cache(maxsize=64)
def _for_driver(sql, dialect_name):
    return sql if dialect_name == "sqlite" else _NAMED_PARAMETER.sub(r"%(\1)s", sql)


def run(connection, sql, params):
    """Run `sql` with `params` on `connection` (a SQLAlchemy Connection in a
    transaction). Returns the first column of the first row it returned, or None."""
    # Outside a transaction SQLAlchemy would not commit what this writes, and
    # returning the connection to the pool would roll it back.
    assert connection.in_transaction(), "driver_sql.run needs a transaction"
    cursor = connection.connection.cursor()
    try:
        cursor.execute(_for_driver(sql, connection.dialect.name), params)
        row = cursor.fetchone() if cursor.description else None
    finally:
        cursor.close()
    return None if row is None else row[0]


def run_many(connection, sql, params_list):
    """Run `sql` once for each of `params_list` (a write, in a transaction)."""
    assert connection.in_transaction(), "driver_sql.run_many needs a transaction"
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(_for_driver(sql, connection.dialect.name), params_list)
    finally:
        cursor.close()


def rows(connection, sql, params, cached=True):
    """Every row `sql` returns, as tuples (a read; no transaction needed).
    `cached=False`: SQL made for this call, without parameters (kept out of
    the cache of rewritten statements)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(_for_driver(sql, connection.dialect.name) if cached else sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def timestamp(connection, value):
    """A naive UTC datetime as SQLAlchemy stores it: text in its own format on
    SQLite (so the ORM reads it back), the datetime itself for psycopg."""
    process = _datetime_processor(connection.dialect)
    return value if process is None else process(value)


@lru_cache(maxsize=16)
def _datetime_processor(dialect):
    return DateTime().dialect_impl(dialect).bind_processor(dialect)
