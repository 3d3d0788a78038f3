"""The reply pipeline: model pieces in, `Piece` / `Heartbeat` / `Finished` events out.

It knows nothing of the provider or of the output format: the page, the text
API and the JSON API each frame these events their own way.

The model is read on a helper thread (a greenlet under gevent) that feeds a
queue, so that a silent model still lets us send heartbeats, and a client that
goes away (the generator is closed) stops the model after its current piece.
"""

import logging
import queue
import threading
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

COMPLETE = "complete"
ERROR = "error"
STOPPED = "stopped"
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Piece:
    text: str


@dataclass(frozen=True)
class Heartbeat:
    pass


@dataclass(frozen=True)
class Finished:
    text: str
    outcome: str
    error: str = ""  # a message safe to show a person; the log has the details
    first_piece_seconds: float | None = None
    seconds: float = 0.0
    pieces: int = 0

    @property
    def pieces_per_second(self):
        streaming = self.seconds - (self.first_piece_seconds or 0)
        return (self.pieces - 1) / streaming if self.pieces > 1 and streaming > 0 else None


HEARTBEAT = Heartbeat()
_END = object()
_STOP = object()

# Answers streaming in this process, by the key their caller gave, so that a
# Stop request handled by this process can end one at once.
_live_readers = {}


def request_stop(key):
    """Stop the answer streaming here under `key`; False if it is not here."""
    reader = _live_readers.get(key)
    if reader is None:
        return False
    reader.stop()
    reader.queue.put(_STOP)
    return True


def chunk_text(chunk):
    """The text of a LangChain chunk; `.text` also flattens Gemini's content blocks."""
    return str(chunk.text)


def public_error_message(exc):
    """A clear message for a person, never a stack trace or a credential."""
    name = type(exc).__name__
    status = getattr(exc, "code", None) or getattr(exc, "status_code", None)
    if name in ("ResourceExhausted", "TooManyRequests") or status == 429:
        return "The model is busy right now (rate limited). Please try again in a moment."
    if name in ("DeadlineExceeded", "Timeout", "ReadTimeout") or "timeout" in name.lower():
        return "The model took too long to answer. Please try again."
    if name == "ServiceUnavailable" or status == 503:
        return "The model service is unavailable right now. Please try again in a moment."
    if name in ("ConnectionError", "ChunkedEncodingError", "ProtocolError"):
        return "The connection to the model was lost. Please try again."
    return "The model failed to answer. Please try again."


class _ModelReader:
    """Reads `model.stream(messages)` on its own thread into a queue."""

    def __init__(self, model, messages):
        self._model = model
        self._messages = messages
        self.queue = queue.SimpleQueue()
        self._stop = threading.Event()
        self.pieces_read = 0
        self._thread = threading.Thread(target=self._run, name="model-reader", daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()

    def _run(self):
        stream = None
        try:
            stream = iter(self._model.stream(self._messages))
            for chunk in stream:
                if self._stop.is_set():
                    return
                text = chunk_text(chunk)
                if text:
                    self.pieces_read += 1
                    self.queue.put(text)
            self.queue.put(_END)
        except BaseException as exc:  # noqa: BLE001 - reported to the reader
            self.queue.put(exc)
        finally:
            if stream is not None and hasattr(stream, "close"):
                stream.close()
            if self._stop.is_set():
                log.info("model stream closed after %d pieces: stopped early", self.pieces_read)


def stream_reply(model, messages, heartbeat_seconds=15.0, on_finish=None, stop_key=None):
    """Yield `Piece`s as the model produces them, `HEARTBEAT` while it is silent,
    and last a `Finished` with the whole text and how it ended.

    Closing this generator early (the client went away) stops the model stream.
    `on_finish(Finished)` is called exactly once however the answer ends, also
    on a close, where the outcome is INTERRUPTED: that is where callers save.
    `request_stop(stop_key)` ends it with the outcome STOPPED.
    """
    started = time.monotonic()
    reader = _ModelReader(model, messages)
    if stop_key is not None:
        _live_readers[stop_key] = reader
    parts, first_piece_at, result = [], None, None

    def finish(outcome, error=""):
        nonlocal result
        ttft = None if first_piece_at is None else first_piece_at - started
        result = Finished("".join(parts), outcome, error, ttft, time.monotonic() - started, len(parts))
        if on_finish is not None:
            on_finish(result)
        return result

    try:
        while True:
            try:
                item = reader.queue.get(timeout=heartbeat_seconds)
            except queue.Empty:
                yield HEARTBEAT
                continue
            if item is _END:
                yield finish(COMPLETE)
                return
            if item is _STOP:
                yield finish(STOPPED)
                return
            if isinstance(item, BaseException):
                log.error("model failed after %d pieces", len(parts), exc_info=item)
                yield finish(ERROR, public_error_message(item))
                return
            if first_piece_at is None:
                first_piece_at = time.monotonic()
            parts.append(item)
            yield Piece(item)
    finally:
        reader.stop()
        if stop_key is not None:
            _live_readers.pop(stop_key, None)
        if result is None:
            finish(INTERRUPTED)


def with_checkpoints(events, save_partial, every_seconds):
    """Pass `events` through, calling `save_partial(text so far)` at most every
    `every_seconds` while pieces arrive. The cost per piece is a clock read."""
    parts, last_saved = [], time.monotonic()
    for event in events:
        if isinstance(event, Piece):
            parts.append(event.text)
            now = time.monotonic()
            if now - last_saved >= every_seconds:
                save_partial("".join(parts))
                last_saved = now
        yield event
