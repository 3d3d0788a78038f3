"""Waiting for SQLite's write lock without stopping the other streams.

Every gunicorn worker writes to the same SQLite file, and only one connection
can write at a time. SQLite's own busy handler waits for the lock by sleeping
inside C (1, 2, 5, 10 ms ...). Under the gevent worker nothing else in the
process runs meanwhile: one request waiting for the other worker's commit
froze all of its worker's streams. In a burst of 1,000 new chats that added
up to about 0.4 s per worker (docs/benchmarks.md, "Decisions").

So SQLite is told not to wait (timeout 0), and a statement or commit that
finds the database locked is tried again here after `time.sleep`, which
gevent makes cooperative (and which only blocks its own thread under
gthread). As with SQLite's handler, a statement is only ever retried when it
failed without doing anything: SQLITE_BUSY means the lock was not taken. A
transaction whose snapshot went stale gets SQLITE_BUSY_SNAPSHOT, which no
wait can cure, and fails at once as before.
"""

import sqlite3
import time

# As long as the busy_timeout this replaces.
LOCK_WAIT_SECONDS = 5.0
_FIRST_PAUSE, _LONGEST_PAUSE = 0.0005, 0.01
# Plain SQLITE_BUSY and SQLITE_BUSY_RECOVERY (another connection is
# rebuilding the WAL index): both pass once the other connection is done.
_WAIT_FOR = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_BUSY_RECOVERY}


def _waiting_for_lock(method):
    def call(self, *args, **kwargs):
        deadline, pause = None, _FIRST_PAUSE
        while True:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode not in _WAIT_FOR:
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + LOCK_WAIT_SECONDS
                elif now >= deadline:
                    raise
                time.sleep(min(pause, deadline - now))
                pause = min(pause * 2, _LONGEST_PAUSE)

    call.__name__, call.__doc__ = method.__name__, method.__doc__
    return call


class CooperativeCursor(sqlite3.Cursor):
    execute = _waiting_for_lock(sqlite3.Cursor.execute)
    executemany = _waiting_for_lock(sqlite3.Cursor.executemany)


class CooperativeConnection(sqlite3.Connection):
    """A sqlite3 connection whose cursors and commits wait for a locked
    database with `time.sleep`. Open it with timeout=0."""

    commit = _waiting_for_lock(sqlite3.Connection.commit)

    def cursor(self, factory=CooperativeCursor):
        return super().cursor(factory)


# For create_engine(connect_args=...) on a SQLite URL.
CONNECT_ARGS = {"factory": CooperativeConnection, "timeout": 0}
