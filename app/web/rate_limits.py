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
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, delete, event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

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
    def __init__(self, retry_after, message):
        super().__init__(429, message, retry_after=max(1, math.ceil(retry_after)))


def too_many_messages(retry_after, per_minute, who):
    return RateLimited(retry_after, f"{who} sent {per_minute} messages in a minute. Please wait a moment.")


def too_many_streams(limit, who):
    plural = "s" if limit != 1 else ""
    return RateLimited(5, f"{who} already {'have' if who == 'You' else 'has'} {limit} answer{plural} streaming. "
                          "Wait for one to finish or stop it.")


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


class Limiter:
    def __init__(self, limits, sessions):
        self.limits, self._sessions = limits, sessions
        self._admissions = itertools.count(1)

    def admit(self, key, address, take_stream=True):
        """Count a message from client `key` at `address` and (`take_stream`)
        take a stream slot, or raise RateLimited. Returns the slot's release()."""
        limits = self.limits
        if not limits.any:
            return _nothing_to_release
        now = utcnow()
        with self._sessions() as db:
            for column, value, per_minute, max_streams, who in (
                (RateEvent.key, key, limits.messages_per_minute, limits.max_streams, "You"),
                (RateEvent.address, address, limits.address_messages_per_minute, limits.address_max_streams,
                 YOUR_NETWORK),
            ):
                if per_minute:
                    times = list(db.scalars(
                        select(RateEvent.at).where(column == value, RateEvent.kind == "message",
                                                   RateEvent.at > _ago(now, WINDOW_SECONDS))
                        .order_by(RateEvent.at).limit(per_minute)
                    ))
                    if len(times) >= per_minute:
                        retry_after = WINDOW_SECONDS - (now - times[0]).total_seconds()
                        raise too_many_messages(retry_after, per_minute, who)
                if max_streams and self._open_streams(db, column, value, now) >= max_streams:
                    raise too_many_streams(max_streams, who)
            db.add(RateEvent(key=key, kind="message", at=now, address=address))
            if next(self._admissions) % SWEEP_EVERY == 0:
                db.execute(delete(RateEvent).where(RateEvent.at < _ago(now, FORGET_AFTER_SECONDS)))
            db.commit()
        return self.hold_stream(key) if take_stream else _nothing_to_release

    def admit_new_owner(self, address):
        """Count a new browser identity for `address`, or raise RateLimited."""
        per_hour = self.limits.new_owners_per_hour
        if not per_hour:
            return
        now = utcnow()
        with self._sessions() as db:
            times = list(db.scalars(
                select(RateEvent.at).where(RateEvent.address == address, RateEvent.kind == "owner",
                                           RateEvent.at > _ago(now, NEW_OWNER_WINDOW_SECONDS))
                .order_by(RateEvent.at).limit(per_hour)
            ))
            if len(times) >= per_hour:
                raise RateLimited(
                    NEW_OWNER_WINDOW_SECONDS - (now - times[0]).total_seconds(),
                    f"Too many new visitors from your network address in the last hour ({per_hour}). "
                    "Please try again later, or use the browser you used before.",
                )
            db.add(RateEvent(key=address, kind="owner", at=now, address=address))
            db.commit()

    def hold_stream(self, key):
        """Take a stream slot whatever the limit (the message was admitted); returns its release()."""
        if not (self.limits.max_streams or self.limits.address_max_streams):
            return _nothing_to_release
        with self._sessions() as db:
            # The address is the one this client last sent a message from.
            address = db.scalar(
                select(RateEvent.address).where(RateEvent.key == key, RateEvent.kind == "message")
                .order_by(RateEvent.at.desc()).limit(1)
            )
            stream = RateEvent(key=key, kind="stream", at=utcnow(), address=address)
            db.add(stream)
            db.commit()
            stream_id = stream.id
        return lambda: self._release(stream_id)

    def _open_streams(self, db, column, value, now):
        return db.scalar(select(func.count()).where(
            column == value, RateEvent.kind == "stream", RateEvent.at > _ago(now, STREAM_TTL_SECONDS),
        ))

    def _release(self, stream_id):
        with self._sessions() as db:
            db.execute(delete(RateEvent).where(RateEvent.id == stream_id))
            db.commit()


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


def machine_sessions(path):
    """Sessions on this machine's rate-limit file, made if it is missing."""
    Path(path).parent.mkdir(mode=PRIVATE_DIRECTORY, parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", connect_args=SQLITE_CONNECT_ARGS)
    event.listen(engine, "connect", _fast_counter_pragmas)
    try:
        RateEvent.metadata.create_all(engine, tables=[RateEvent.__table__])
    except OperationalError:
        # Another worker starting at the same moment made it first.
        RateEvent.metadata.create_all(engine, tables=[RateEvent.__table__])
    private_sqlite_file(path)  # it names clients and their addresses
    return sessionmaker(engine, expire_on_commit=False)


def build_limiter(config, app_sessions, instance_path):
    limits = Limits.from_config(config)
    if config.rate_limit_store == "database":
        return Limiter(limits, app_sessions)
    if not limits.any:
        return Limiter(limits, None)  # never opens a session
    return Limiter(limits, machine_sessions(config.rate_limit_file or Path(instance_path) / "rate-limits.sqlite3"))


def release_when_done(events, release):
    """Pass the reply's events through; free the stream slot however they end."""
    try:
        yield from events
    finally:
        release()
