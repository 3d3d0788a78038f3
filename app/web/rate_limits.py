"""Per-client rate limits: messages per minute and simultaneous streams.

In memory by default (one process). With several workers or app servers set
CHAT_RATE_LIMIT_STORE=database: the counts then live in the shared database
(table rate_events), so every process sees them.

A client is the browser's owner id on the page, and the API key (or, with no
keys configured, the address) on the API.

A stream is an answer being generated: a request that answers in its own
response takes its slot with `admit`; a message whose answer is generated in
the background is counted with `admit(key, take_stream=False)`, and the
generation holds a slot (`hold_stream`) wherever it runs.
"""

import math
import random
import threading
import time
from collections import defaultdict, deque
from datetime import timedelta

from sqlalchemy import delete, func, select

from app.storage.models import RateEvent, utcnow

WINDOW_SECONDS = 60.0
# A stream row older than this is from a process that died without releasing it.
STREAM_TTL_SECONDS = 900


class RateLimited(Exception):
    status = 429

    def __init__(self, retry_after, message):
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))
        self.message = message


def too_many_messages(retry_after, per_minute):
    return RateLimited(retry_after, f"You have sent {per_minute} messages in a minute. Please wait a moment.")


def too_many_streams(limit):
    return RateLimited(
        5, f"You already have {limit} answer{'s' if limit != 1 else ''} streaming. Wait for one to finish or stop it."
    )


class MemoryLimiter:
    def __init__(self, per_minute, max_streams):
        self.per_minute, self.max_streams = per_minute, max_streams
        self._lock = threading.Lock()
        self._sent = defaultdict(deque)
        self._streams = defaultdict(int)

    def admit(self, key, take_stream=True):
        """Count a message and (`take_stream`) take a stream slot, or raise
        RateLimited. Returns the slot's release()."""
        now = time.monotonic()
        with self._lock:
            sent = self._sent[key]
            while sent and now - sent[0] >= WINDOW_SECONDS:
                sent.popleft()
            if self.per_minute and len(sent) >= self.per_minute:
                raise too_many_messages(WINDOW_SECONDS - (now - sent[0]), self.per_minute)
            if self.max_streams and self._streams[key] >= self.max_streams:
                raise too_many_streams(self.max_streams)
            sent.append(now)
        return self.hold_stream(key) if take_stream else _nothing_to_release

    def hold_stream(self, key):
        """Take a stream slot whatever the limit (the message was admitted); returns its release()."""
        with self._lock:
            self._streams[key] += 1
        return lambda: self._release(key)

    def _release(self, key):
        with self._lock:
            self._streams[key] -= 1
            if not self._streams[key]:
                del self._streams[key]


class DatabaseLimiter:
    def __init__(self, per_minute, max_streams, sessions):
        self.per_minute, self.max_streams, self._sessions = per_minute, max_streams, sessions

    def admit(self, key, take_stream=True):
        now = utcnow()
        with self._sessions() as db:
            if self.per_minute:
                window = select(RateEvent.at).where(
                    RateEvent.key == key, RateEvent.kind == "message",
                    RateEvent.at > _ago(now, WINDOW_SECONDS),
                ).order_by(RateEvent.at)
                times = list(db.scalars(window))
                if len(times) >= self.per_minute:
                    raise too_many_messages(WINDOW_SECONDS - (now - times[0]).total_seconds(), self.per_minute)
            if self.max_streams:
                open_streams = db.scalar(select(func.count()).where(
                    RateEvent.key == key, RateEvent.kind == "stream", RateEvent.at > _ago(now, STREAM_TTL_SECONDS),
                ))
                if open_streams >= self.max_streams:
                    raise too_many_streams(self.max_streams)
            db.add(RateEvent(key=key, kind="message", at=now))
            if random.random() < 0.01:  # now and then, forget old rows
                db.execute(delete(RateEvent).where(RateEvent.at < _ago(now, STREAM_TTL_SECONDS)))
            db.commit()
        return self.hold_stream(key) if take_stream else _nothing_to_release

    def hold_stream(self, key):
        with self._sessions() as db:
            stream = RateEvent(key=key, kind="stream", at=utcnow())
            db.add(stream)
            db.commit()
            stream_id = stream.id
        return lambda: self._release(stream_id)

    def _release(self, stream_id):
        with self._sessions() as db:
            db.execute(delete(RateEvent).where(RateEvent.id == stream_id))
            db.commit()


def _nothing_to_release():
    pass


def _ago(now, seconds):
    return now - timedelta(seconds=seconds)


def build_limiter(config, sessions):
    if config.rate_limit_store == "database":
        return DatabaseLimiter(config.rate_messages_per_minute, config.rate_max_streams, sessions)
    return MemoryLimiter(config.rate_messages_per_minute, config.rate_max_streams)


def release_when_done(events, release):
    """Pass the reply's events through; free the stream slot however they end."""
    try:
        yield from events
    finally:
        release()
