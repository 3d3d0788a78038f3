"""The database engine and sessions, one engine per app.

Views and stream generators each open their own short session with
`session_for(app)`: Flask tears request state down before a streamed body is
sent, so a generator must never use a session opened by its view.
"""

import os

from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

from app.models import Base


def database_url(app):
    url = app.config["CHAT"].database_url
    if url:
        return url
    os.makedirs(app.instance_path, exist_ok=True)
    return "sqlite:///" + os.path.join(app.instance_path, "chat.sqlite3")


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the page) and the writer (a finishing stream) overlap.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def init_db(app):
    url = database_url(app)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    Base.metadata.create_all(engine)
    app.extensions["db_sessions"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["db_engine"] = engine


def session_for(app):
    return app.extensions["db_sessions"]()
