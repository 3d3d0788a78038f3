"""The database engine and sessions, one engine per app.

Views and stream generators each open their own short session with
`session_for(app)`: Flask tears request state down before a streamed body is
sent, so a generator must never use a session opened by its view.
"""

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

from app.config import ConfigError
from app.storage.answer_notices import Notices
from app.storage.driver_sql import check_supported
from app.storage.migrate import alembic_config, upgrade
from app.storage.private_files import private_directory, private_sqlite_file
from app.storage.sqlite_locks import CONNECT_ARGS as SQLITE_CONNECT_ARGS


def resolve_database_url(url, instance_path):
    """DATABASE_URL, or a SQLite file in the instance folder; PostgreSQL URLs use psycopg 3."""
    if not url:
        private_directory(instance_path)
        return "sqlite:///" + str(Path(instance_path) / "chat.sqlite3")
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the page) and the writer (a finishing stream) overlap.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL syncs at checkpoints, not at every commit: a power
    # cut may lose the last commits but never corrupts the file. A commit
    # that fsyncs stalls every stream of a gevent worker (docs/benchmarks.md).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _check_schema_is_current(engine):
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != head:
        raise ConfigError(
            f"the database schema is at {current or 'nothing'}, the app needs {head}: "
            "run `python -m app.storage.migrate` with the same DATABASE_URL"
        )


def init_db(app):
    url = resolve_database_url(app.config["CHAT"].database_url, app.instance_path)
    is_sqlite = url.startswith("sqlite")
    # A server can drop idle connections, so PostgreSQL's are checked before
    # use; a SQLite file cannot, and a check per checkout costs every write.
    # SQLite waits for another worker's write lock without blocking this
    # worker's other streams (app/storage/sqlite_locks.py).
    engine = create_engine(url, pool_pre_ping=not is_sqlite, connect_args=SQLITE_CONNECT_ARGS if is_sqlite else {})
    try:
        check_supported(engine.dialect)
    except ValueError as error:
        raise ConfigError(f"DATABASE_URL: {error}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        # The default database migrates itself; workers take turns.
        upgrade(engine, lock_path=f"{engine.url.database}.migrate-lock")
        private_sqlite_file(engine.url.database)
    else:
        _check_schema_is_current(engine)
    app.extensions["db_sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["db_engine"] = engine
    app.extensions["answer_notices"] = Notices(engine)


def session_for(app):
    return app.extensions["db_sessions"]()
