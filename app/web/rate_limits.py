"""Rate limits: per client and per network address, exact across workers.

Each client (the browser's owner id on the page; the API key, or with no keys
the address, on the API) may send CHAT_RATE_MESSAGES_PER_MINUTE messages a
minute and have CHAT_RATE_MAX_STREAMS answers streaming at once. Because a
client can make itself new (a browser without its cookie gets a new owner),
each address also has limits of its own: messages a minute, answers
streaming, and new browser identities an hour. Behind a proxy the address is
the one the proxy saw (CHAT_PROXY_HOPS); an IPv6 address counts as its /64
(app/web/network_prefix.py), which one customer has to themselves. Wrong API keys are counted per
network (an IPv6 client by its /64): past CHAT_RATE_FAILED_AUTH_PER_HOUR that
network's API calls are refused, right key or wrong, until the hour moves on.

The counts are rows in one table (rate_events), so every process that reads
the table sees the same counts and a client gets the limit, not the limit
times the number of workers:
- `machine` (the default): a SQLite file on this machine (CHAT_RATE_LIMIT_FILE,
  default instance/rate-limits.sqlite3), shared by all its workers;
- `database`: the app's database, shared by every app server.
Every SWEEP_EVERY admissions a process deletes the rows older than the
longest window, so the table holds about an hour of traffic, not all of it.

A stream is an answer being generated, counted from the moment it is
asked for until it ends: `admit` writes its row with the message's, in the
transaction that counts (so requests arriving together cannot all be the last
one allowed), and returns its StreamSlot. A request that answers in its own
response releases it when the response ends; one whose answer is generated
apart from it hands the slot to the answer (`StreamSlot.hand_to`), and
whichever process ends the answer (finished, failed, stopped, or reaped after
its worker died) frees it with `release_answer`. A slot nobody frees (a
process killed in between) stops counting after STREAM_TTL_SECONDS, longer
than an answer may take (CHAT_ANSWER_MAX_SECONDS).
"""

import itertools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, event
from sqlalchemy.exc import OperationalError

from app.refusals import Refused, refused
from app.storage import driver_sql
from app.storage.models import RateEvent, utcnow
from app.storage.private_files import PRIVATE_DIRECTORY, private_sqlite_file
from app.storage.sqlite_locks import CONNECT_ARGS as SQLITE_CONNECT_ARGS
from app.web.network_prefix import network_of

WINDOW_SECONDS = 60.0
NEW_OWNER_WINDOW_SECONDS = 3600.0
# A stream row older than this is from a process that died without releasing it.
STREAM_TTL_SECONDS = 900
FORGET_AFTER_SECONDS = max(NEW_OWNER_WINDOW_SECONDS, STREAM_TTL_SECONDS)
SWEEP_EVERY = 100


class RateLimited(Refused):
    """`limit` names the limit that refused (the metrics' label): messages,
    streams, address-messages, address-streams, new-owners or failed-auth."""

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
    failed_auth_per_hour: int = 0

    @classmethod
    def from_config(cls, config):
        return cls(
            config.rate_messages_per_minute, config.rate_max_streams, config.rate_address_messages_per_minute,
            config.rate_address_max_streams, config.rate_new_owners_per_hour, config.rate_failed_auth_per_hour,
        )

    @property
    def any(self):
        return any((self.messages_per_minute, self.max_streams, self.address_messages_per_minute,
                    self.address_max_streams, self.new_owners_per_hour, self.failed_auth_per_hour))


YOUR_NETWORK = "Your network address"

# The statements every message runs, as driver SQL (app/storage/driver_sql.py):
# through the ORM a message's admission cost ~1.9 ms of CPU, about as much as
# the rest of the request.
_ADD = """
    INSERT INTO rate_events (key, kind, at, address) VALUES (:key, :kind, :now, :address) RETURNING id"""
# An answer's slot: a row keyed by the answer names the stream row it holds
# (that row's id, in `address`), so the process that ends the answer, which may
# not be the one that admitted it, can free it.
_HAND_TO = "INSERT INTO rate_events (key, kind, at, address) VALUES (:answer, 'answer-slot', :now, :stream)"
_HELD_STREAMS = "SELECT address FROM rate_events WHERE key = :answer AND kind = 'answer-slot'"
_RELEASE_ANSWER = "DELETE FROM rate_events WHERE key = :answer AND kind = 'answer-slot'"
# The answers holding a client's or an address's streams (read when a streams
# limit refuses, to free the slots of answers that ended without saying so).
_HELD_ANSWERS = """
    SELECT held.key FROM rate_events stream
    JOIN rate_events held ON held.address = CAST(stream.id AS VARCHAR(20)) AND held.kind = 'answer-slot'
    WHERE stream.kind = 'stream' AND (stream.key = :key OR stream.address = :address)"""
# PostgreSQL runs transactions side by side: admissions for one client or one
# address take turns on a lock of their own, as SQLite's one writer makes them.
_TAKE_TURNS = "SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"
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
_FAILED_AUTH = """
    SELECT COUNT(*), MIN(at) FROM rate_events WHERE address = :address AND kind = 'auth-failure' AND at > :window"""
_REMOVE = "DELETE FROM rate_events WHERE id = :id"
_FORGET = "DELETE FROM rate_events WHERE at < :before"


class Limiter:
    def __init__(self, limits, engine):
        self.limits, self.engine = limits, engine
        self._admissions = itertools.count(1)

    def admit(self, key, address, take_stream=True):
        """Count a message from client `key` at `address` and (`take_stream`)
        take a stream slot, or raise RateLimited. Returns the StreamSlot."""
        limits = self.limits
        if not limits.any:
            return StreamSlot(None, None)
        address = network_of(address)
        now = utcnow()
        # The message is written first and the counts read after, in one
        # transaction: on SQLite the write takes the lock, so admissions from
        # every worker take turns and a limit is exact. Over a limit, the
        # transaction (and the message with it) is rolled back.
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                for name in sorted({f"client:{key}", f"address:{address}"}):
                    driver_sql.rows(connection, _TAKE_TURNS, {"name": name})
            at = driver_sql.timestamp(connection, now)
            driver_sql.run(connection, _ADD, {"key": key, "kind": "message", "now": at, "address": address})
            stream = take_stream and (limits.max_streams or limits.address_max_streams)
            if stream:
                stream = driver_sql.run(connection, _ADD, {"key": key, "kind": "stream", "now": at, "address": address})
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
                if max_streams and (streams or 0) - (1 if stream else 0) >= max_streams:
                    raise too_many_streams(max_streams, who)
            if next(self._admissions) % SWEEP_EVERY == 0:
                driver_sql.run(connection, _FORGET, {
                    "before": driver_sql.timestamp(connection, _ago(now, FORGET_AFTER_SECONDS))})
        return StreamSlot(self, stream or None)

    def admit_new_owner(self, address):
        """Count a new browser identity for `address`, or raise RateLimited."""
        per_hour = self.limits.new_owners_per_hour
        if not per_hour:
            return
        address = network_of(address)
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

    def refuse_while_guessing(self, address):
        """RateLimited if `address`'s network has sent too many wrong API keys
        this hour. Asked before the key is checked: a guess that lands must
        look like one that misses, or the limit would only slow the misses."""
        per_hour = self.limits.failed_auth_per_hour
        if not per_hour:
            return
        now = utcnow()
        with self.engine.connect() as connection:
            failed, oldest = self._failed_auth(connection, network_of(address), now)
        if failed >= per_hour:
            raise too_many_wrong_keys(_seconds_left(NEW_OWNER_WINDOW_SECONDS, now, oldest), per_hour)

    def count_failed_auth(self, address):
        """Count a wrong API key from `address`'s network."""
        if not self.limits.failed_auth_per_hour:
            return
        network = network_of(address)
        with self.engine.begin() as connection:
            at = driver_sql.timestamp(connection, utcnow())
            driver_sql.run(connection, _ADD, {"key": network, "kind": "auth-failure", "now": at, "address": network})

    @staticmethod
    def _failed_auth(connection, network, now):
        return driver_sql.rows(connection, _FAILED_AUTH, {
            "address": network, "window": driver_sql.timestamp(connection, _ago(now, NEW_OWNER_WINDOW_SECONDS)),
        })[0]

    def release_answer(self, answer_id):
        """Free the stream slot answer `answer_id` holds (none: nothing happens)."""
        if self.engine is None or not (self.limits.max_streams or self.limits.address_max_streams):
            return
        answer = f"answer:{answer_id}"
        with self.engine.begin() as connection:
            for (stream,) in driver_sql.rows(connection, _HELD_STREAMS, {"answer": answer}):
                driver_sql.run(connection, _REMOVE, {"id": int(stream)})
            driver_sql.run(connection, _RELEASE_ANSWER, {"answer": answer})

    def held_answers(self, key, address):
        """The ids of the answers holding client `key`'s or `address`'s stream slots."""
        with self.engine.connect() as connection:
            found = driver_sql.rows(connection, _HELD_ANSWERS, {"key": key, "address": network_of(address)})
        return [int(held.removeprefix("answer:")) for (held,) in found]

    def _hand_to(self, stream_id, answer_id):
        with self.engine.begin() as connection:
            driver_sql.run(connection, _HAND_TO, {
                "answer": f"answer:{answer_id}", "now": driver_sql.timestamp(connection, utcnow()),
                "stream": str(stream_id)})

    def _release(self, stream_id):
        with self.engine.begin() as connection:
            driver_sql.run(connection, _REMOVE, {"id": stream_id})


class StreamSlot:
    """One answer's place among its client's and its address's streams, from
    its admission until it ends. Called (or `release()`), it frees the place;
    used as a context, it frees it on the way out unless it was handed to an
    answer (`hand_to`), whose end frees it then (Limiter.release_answer)."""

    def __init__(self, limiter, stream_id):
        self._limiter, self._stream_id = limiter, stream_id
        self._handed = False

    def hand_to(self, answer_id):
        if self._stream_id is not None and not self._handed:
            self._limiter._hand_to(self._stream_id, answer_id)
        self._handed = True

    def release(self):
        stream_id, self._stream_id = self._stream_id, None
        if stream_id is not None:
            self._limiter._release(stream_id)

    __call__ = release

    def __enter__(self):
        return self

    def __exit__(self, *_exception):
        if not self._handed:
            self.release()


def too_many_wrong_keys(retry_after, per_hour):
    return RateLimited(retry_after, f"Too many wrong API keys came from your network address in the last hour "
                                    f"({per_hour}), so API calls from it wait: check the key your program sends.",
                       "failed-auth")


def _seconds_left(window, now, oldest):
    """Until the oldest row in the window leaves it. SQLite gives text, PostgreSQL a datetime."""
    if isinstance(oldest, str):
        oldest = datetime.fromisoformat(oldest)
    return window - (now - oldest).total_seconds() if oldest is not None else window


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


def count_rate_limited(error):
    """RateLimited's handler: counted by the limit that refused, then refused as any refusal."""
    current_app.extensions["metrics"].rate_limited(error.limit)
    return refused(error)
