"""SQLite's write lock is waited for with time.sleep, so that under gevent the
other streams of a worker go on meanwhile (app/storage/sqlite_locks.py)."""

import sqlite3
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

import pytest

from app import create_app
from app.storage import sqlite_locks
from app.storage.sqlite_locks import CONNECT_ARGS, CooperativeConnection


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "locks.sqlite3"
    setup = sqlite3.connect(path)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE notes (text TEXT)")
    setup.commit()
    setup.close()
    return path


def holding_the_write_lock(path):
    """Another connection (another worker) in the middle of a write."""
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("INSERT INTO notes VALUES ('theirs')")
    return holder


def use_clock(monkeypatch, sleep, monotonic=time.monotonic):
    """Give sqlite_locks its own `time`: patching the time module's functions
    would also change them for every other thread of the test process (the
    deadline ticker, a test's background answers), which then move this
    test's clock or sleep into its list."""
    monkeypatch.setattr(sqlite_locks, "time", SimpleNamespace(sleep=sleep, monotonic=monotonic))


def notes(path):
    with sqlite3.connect(path) as reader:
        return sorted(text for (text,) in reader.execute("SELECT text FROM notes"))


def test_a_write_waits_for_the_lock_with_time_sleep_then_succeeds(database, monkeypatch):
    holder = holding_the_write_lock(database)
    pauses = []

    def sleep(seconds):
        pauses.append(seconds)
        holder.commit()  # the other worker finishes while we wait

    use_clock(monkeypatch, sleep)
    mine = sqlite3.connect(database, **CONNECT_ARGS)
    mine.cursor().execute("INSERT INTO notes VALUES ('mine')")
    mine.commit()
    assert len(pauses) == 1 and 0 < pauses[0] <= 0.01
    assert notes(database) == ["mine", "theirs"]


def test_a_lock_held_too_long_still_fails_with_database_is_locked(database, monkeypatch):
    # Kept referenced: a dropped connection is closed, and its lock released,
    # whenever the garbage collector gets to it.
    holder = holding_the_write_lock(database)
    clock = iter(range(0, 1000))  # each look at the clock is a second later
    pauses = []
    use_clock(monkeypatch, pauses.append, lambda: next(clock))
    mine = sqlite3.connect(database, **CONNECT_ARGS)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        mine.cursor().execute("INSERT INTO notes VALUES ('mine')")
    holder.rollback()
    # about LOCK_WAIT_SECONDS of waiting, and the pauses grow to their cap
    assert len(pauses) == sqlite_locks.LOCK_WAIT_SECONDS
    assert pauses == sorted(pauses) and pauses[-1] <= 0.01


def test_a_stale_snapshot_is_not_waited_for(database, monkeypatch):
    """No wait can help a transaction that read before another worker wrote:
    it fails at once, as it did with SQLite's own busy handler."""
    use_clock(monkeypatch, lambda seconds: pytest.fail("waited for a stale snapshot"))
    mine = sqlite3.connect(database, isolation_level=None, **CONNECT_ARGS)
    mine.execute("BEGIN")
    mine.cursor().execute("SELECT count(*) FROM notes").fetchall()
    holding_the_write_lock(database).commit()
    with pytest.raises(sqlite3.OperationalError) as failure:
        mine.cursor().execute("INSERT INTO notes VALUES ('mine')")
    assert failure.value.sqlite_errorname == "SQLITE_BUSY_SNAPSHOT"


def test_the_app_opens_sqlite_with_cooperative_connections(tmp_path):
    app = create_app({"provider": "fake", "model": "fake-echo", "database_url": f"sqlite:///{tmp_path}/chat.sqlite3"})
    engine = app.extensions["db_engine"]
    with engine.connect() as connection:
        assert isinstance(connection.connection.dbapi_connection, CooperativeConnection)
        # SQLite itself must not wait: its wait would stop the whole worker.
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 0


GEVENT_WORKER = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import sqlite3, sys, time
    import gevent
    from app.storage.sqlite_locks import CONNECT_ARGS

    path = sys.argv[1]
    holder = sqlite3.connect(path, timeout=0)
    holder.execute("INSERT INTO notes VALUES ('theirs')")
    ticks = []

    def other_stream():
        # Another greenlet of the same worker: it must keep running while
        # the write below waits, and here it is what lets the lock go.
        for _ in range(20):
            ticks.append(time.monotonic())
            gevent.sleep(0.005)
        holder.commit()

    def write():
        mine = sqlite3.connect(path, **CONNECT_ARGS)
        mine.cursor().execute("INSERT INTO notes VALUES ('mine')")
        mine.commit()
        return time.monotonic()

    other = gevent.spawn(other_stream)
    written_at = gevent.spawn(write).get(timeout=30)
    other.join()
    print(len(ticks), written_at > ticks[-1])
""")


def test_under_gevent_a_worker_keeps_streaming_while_a_write_waits_for_the_lock(database):
    pytest.importorskip("gevent")
    result = subprocess.run(
        [sys.executable, "-c", GEVENT_WORKER, str(database)], capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # All 20 ticks ran before the write, which finished once the lock was let go.
    assert result.stdout.split() == ["20", "True"]
    assert notes(database) == ["mine", "theirs"]
