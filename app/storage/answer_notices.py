"""Waking the subscribers in other processes when an answer has moved on.

Followers in a process that does not generate an answer read its checkpoints
(app/answers/subscription.py). On PostgreSQL each checkpoint also sends a
NOTIFY on one channel, and one connection per process LISTENs to it and wakes
the followers of that answer at once, instead of at their next poll. SQLite
has no such thing: its followers poll.
"""

import logging
import threading
import time

from sqlalchemy import text

log = logging.getLogger(__name__)

CHANNEL = "answer_progress"


def announce(connection, answer_id):
    """Inside the checkpoint's transaction: sent when it commits (PostgreSQL only)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_notify(:channel, :answer_id)"), {"channel": CHANNEL, "answer_id": str(answer_id)})


class Notices:
    """Waits for news of an answer: a NOTIFY (PostgreSQL) or the timeout."""

    def __init__(self, engine):
        self._engine = engine
        self._waiting = {}  # answer id -> set of threading.Event
        self._lock = threading.Lock()
        self._listening = None
        self.listening = threading.Event()  # set once LISTEN is in force
        self._closed = False

    def wait(self, answer_id, timeout):
        """True if news of `answer_id` came before `timeout` seconds passed."""
        if self._engine.dialect.name != "postgresql":
            time.sleep(timeout)
            return False
        self._listen()
        event = threading.Event()
        with self._lock:
            self._waiting.setdefault(answer_id, set()).add(event)
        try:
            return event.wait(timeout)
        finally:
            with self._lock:
                waiting = self._waiting.get(answer_id)
                waiting.discard(event)
                if not waiting:
                    del self._waiting[answer_id]

    def close(self):
        """Stop listening (within a second): an app that is done with its database."""
        self._closed = True

    def _listen(self):
        with self._lock:
            if self._closed or (self._listening is not None and self._listening.is_alive()):
                return
            self._listening = threading.Thread(target=self._run, name="answer-notices", daemon=True)
            self._listening.start()

    def _run(self):
        import psycopg

        url = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            with psycopg.connect(url, autocommit=True) as connection:
                connection.execute(f"LISTEN {CHANNEL}")
                self.listening.set()
                while not self._closed:
                    for notice in connection.notifies(timeout=1.0):
                        with self._lock:
                            waiting = list(self._waiting.get(int(notice.payload), ()))
                        for event in waiting:
                            event.set()
        except Exception:  # noqa: BLE001 - followers fall back to polling; the next wait listens again
            log.exception("listening for answer progress failed")
        finally:
            self.listening.clear()
