"""Rate limits: per client and per network address, exact across workers.

Each client (the browser's owner id on the page; the API key, or with no keys
the address, on the API) may send CHAT_RATE_MESSAGES_PER_MINUTE messages a
minute and have CHAT_RATE_MAX_STREAMS answers streaming at once. Because a
client can make itself new (a browser without its cookie gets a new owner),
each address also has limits of its own: messages a minute, answers
streaming, and new browser identities an hour. Behind a proxy the address is
the one the proxy saw (CHAT_PROXY_HOPS).

The counts are rows in one table (rate_events), so every process that reads
the table sees the same counts and a client gets the limit, not the limit
times the number of workers:
- `machine` (the default): a SQLite file on this machine (CHAT_RATE_LIMIT_FILE,
  default instance/rate-limits.sqlite3), shared by all its workers;
- `database`: the app's database, shared by every app server.
Every SWEEP_EVERY admissions a process deletes the rows older than the
longest window, so the table holds about an hour of traffic, not all of it.

A stream is an answer being generated: a request that answers in its own
response takes its slot with `admit`; a message whose answer is generated in
the background is counted with `admit(..., take_stream=False)`, and the
generation holds a slot (`hold_stream(owner)`) wherever it runs, counted
against the address that last sent a message for that owner.
"""

import itertools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.exc import OperationalError

from app.storage import driver_sql
from app.storage.models import RateEvent, utcnow
from app.storage.private_files import PRIVATE_DIRECTORY, private_sqlite_file
from app.storage.sqlite_locks import CONNECT_ARGS as SQLITE_CONNECT_ARGS
from app.web.refusals import Refused

WINDOW_SECONDS = 60.0
NEW_OWNER_WINDOW_SECONDS = 3600.0
# A stream row older than this is from a process that died without releasing it.
STREAM_TTL_SECONDS = 900
FORGET_AFTER_SECONDS = max(NEW_OWNER_WINDOW_SECONDS, STREAM_TTL_SECONDS)
SWEEP_EVERY = 100


class RateLimited(Refused):
    """`limit` names the limit that refused (the metrics' label): messages,
    streams, address-messages, address-streams or new-owners."""

    def __init__(self, retry_after, message, limit):
        super().__init__(429, message, retry_after=max(1, math.ceil(retry_after)))
        self.limit = limit


def _limit_name(kind, who):
    return kind if who == "You" else f"address-{kind}"


def too_many_messages(retry_after, per_minute, who):
    return RateLimited(retry_after, f"{who} sent {per_minute} messages in a minute. Please wait a moment.",
                       _limit_name("messages", who))


def too_many_streams(limit, who):
    plural = "s" if limit != 1 else ""
    return RateLimited(5, f"{who} already {'have' if who == 'You' else 'has'} {limit} answer{plural} streaming. "
                          "Wait for one to finish or stop it.", _limit_name("streams", who))


@dataclass(frozen=True)
class Limits:
    """0 turns a limit off."""

    messages_per_minute: int
    max_streams: int
    address_messages_per_minute: int
    address_max_streams: int
    new_owners_per_hour: int

    @classmethod
    def from_config(cls, config):
        return cls(
            config.rate_messages_per_minute, config.rate_max_streams, config.rate_address_messages_per_minute,
            config.rate_address_max_streams, config.rate_new_owners_per_hour,
        )

    @property
    def any(self):
        return any((self.messages_per_minute, self.max_streams, self.address_messages_per_minute,
                    self.address_max_streams, self.new_owners_per_hour))


YOUR_NETWORK = "Your network address"

# The statements every message runs, as driver SQL (app/storage/driver_sql.py):
# through the ORM a message's admission cost ~1.9 ms of CPU, about as much as
# the rest of the request.
_ADD = """
    INSERT INTO rate_events (key, kind, at, address) VALUES (:key, :kind, :now, :address) RETURNING id"""
# A stream is counted against the address its owner last sent a message from.
_LAST_ADDRESS = "SELECT address FROM rate_events WHERE key = :key AND kind = 'message' ORDER BY at DESC LIMIT 1"
# Everything one admission needs to know, in one pass over the client's and
# the address's rows (each found through its own index).
_COUNTS = """
    SELECT
        SUM(CASE WHEN kind = 'message' AND key = :key AND at > :window THEN 1 ELSE 0 END),
        MIN(CASE WHEN kind = 'message' AND key = :key AND at > :window THEN at END),
        SUM(CASE WHEN kind = 'stream' AND key = :key THEN 1 ELSE 0 END),
        SUM(CASE WHEN kind = 'message' AND address = :address AND at > :window THEN 1 ELSE 0 END),
        MIN(CASE WHEN kind = 'message' AND address = :address AND at > :window THEN at END),
        SUM(CASE WHEN kind = 'stream' AND address = :address THEN 1 ELSE 0 END)
    FROM rate_events
    WHERE (key = :key OR address = :address) AND at > :streams_since"""
_NEW_OWNERS = """
    SELECT COUNT(*), MIN(at) FROM rate_events WHERE address = :address AND kind = 'owner' AND at > :window"""
_REMOVE = "DELETE FROM rate_events WHERE id = :id"
_FORGET = "DELETE FROM rate_events WHERE at < :before"


class Limiter:
    def __init__(self, limits, engine):
        self.limits, self.engine = limits, engine
        self._admissions = itertools.count(1)

    def admit(self, key, address, take_stream=True):
        """Count a message from client `key` at `address` and (`take_stream`)
        take a stream slot, or raise RateLimited. Returns the slot's release()."""
        limits = self.limits
        if not limits.any:
            return _nothing_to_release
        now = utcnow()
        # The message is written first and the counts read after, in one
        # transaction: on SQLite the write takes the lock, so admissions from
        # every worker take turns and a limit is exact. Over a limit, the
        # transaction (and the message with it) is rolled back.
        with self.engine.begin() as connection:
            at = driver_sql.timestamp(connection, now)
            driver_sql.run(connection, _ADD, {"key": key, "kind": "message", "now": at, "address": address})
            counts = driver_sql.rows(connection, _COUNTS, {
                "key": key, "address": address, "window": driver_sql.timestamp(connection, _ago(now, WINDOW_SECONDS)),
                "streams_since": driver_sql.timestamp(connection, _ago(now, STREAM_TTL_SECONDS)),
            })[0]
            client, network = counts[:3], counts[3:]
            for (sent, oldest, streams), per_minute, max_streams, who in (
                (client, limits.messages_per_minute, limits.max_streams, "You"),
                (network, limits.address_messages_per_minute, limits.address_max_streams, YOUR_NETWORK),
            ):
                if per_minute and (sent or 0) > per_minute:
                    raise too_many_messages(_seconds_left(WINDOW_SECONDS, now, oldest), per_minute, who)
                if max_streams and (streams or 0) >= max_streams:
                    raise too_many_streams(max_streams, who)
            if next(self._admissions) % SWEEP_EVERY == 0:
                driver_sql.run(connection, _FORGET, {
                    "before": driver_sql.timestamp(connection, _ago(now, FORGET_AFTER_SECONDS))})
        return self.hold_stream(key) if take_stream else _nothing_to_release

    def admit_new_owner(self, address):
        """Count a new browser identity for `address`, or raise RateLimited."""
        per_hour = self.limits.new_owners_per_hour
        if not per_hour:
            return
        now = utcnow()
        with self.engine.begin() as connection:
            at = driver_sql.timestamp(connection, now)
            driver_sql.run(connection, _ADD, {"key": address, "kind": "owner", "now": at, "address": address})
            made, oldest = driver_sql.rows(connection, _NEW_OWNERS, {
                "address": address, "window": driver_sql.timestamp(connection, _ago(now, NEW_OWNER_WINDOW_SECONDS)),
            })[0]
            if made > per_hour:
                raise RateLimited(
                    _seconds_left(NEW_OWNER_WINDOW_SECONDS, now, oldest),
                    f"Too many new visitors from your network address in the last hour ({per_hour}). "
                    "Please try again later, or use the browser you used before.",
                    "new-owners",
                )

    def hold_stream(self, key):
        """Take a stream slot whatever the limit (the message was admitted); returns its release()."""
        if not (self.limits.max_streams or self.limits.address_max_streams):
            return _nothing_to_release
        with self.engine.begin() as connection:
            address = driver_sql.run(connection, _LAST_ADDRESS, {"key": key})
            stream_id = driver_sql.run(connection, _ADD, {
                "key": key, "kind": "stream", "now": driver_sql.timestamp(connection, utcnow()), "address": address})
        return lambda: self._release(stream_id)

    def _release(self, stream_id):
        with self.engine.begin() as connection:
            driver_sql.run(connection, _REMOVE, {"id": stream_id})


def _seconds_left(window, now, oldest):
    """Until the oldest row in the window leaves it. SQLite gives text, PostgreSQL a datetime."""
    if isinstance(oldest, str):
        oldest = datetime.fromisoformat(oldest)
    return window - (now - oldest).total_seconds() if oldest is not None else window


def _nothing_to_release():
    pass


def _ago(now, seconds):
    return now - timedelta(seconds=seconds)


def _fast_counter_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # Counts for the next hour, not records: a power cut may lose the last
    # few, and no commit waits for the disk.
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def machine_engine(path):
    """This machine's rate-limit file, made if it is missing."""
    Path(path).parent.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", connect_args=SQLITE_CONNECT_ARGS)
    event.listen(engine, "connect", _fast_counter_pragmas)
    try:
        RateEvent.metadata.create_all(engine, tables=[RateEvent.__table__])
    except OperationalError:
        # Another worker starting at the same moment made it first.
        RateEvent.metadata.create_all(engine, tables=[RateEvent.__table__])
    private_sqlite_file(path)  # it names clients and their addresses
    return engine


def build_limiter(config, app_engine, instance_path):
    limits = Limits.from_config(config)
    if config.rate_limit_store == "database":
        return Limiter(limits, app_engine)
    if not limits.any:
        return Limiter(limits, None)  # never uses its store
    return Limiter(limits, machine_engine(config.rate_limit_file or Path(instance_path) / "rate-limits.sqlite3"))


def release_when_done(events, release):
    """Pass the reply's events through; free the stream slot however they end."""
    try:
        yield from events
    finally:
        release()
