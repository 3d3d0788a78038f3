"""The reply pipeline: model pieces in, `Piece` / `Thought` / `Heartbeat` / `Finished` events out.

It knows nothing of the provider or of the output format: the page, the text
API and the JSON API each frame these events their own way.

The model is read on a helper thread (a greenlet under gevent) that feeds a
queue, so that a silent model still lets us send heartbeats, and a client that
goes away (the generator is closed) stops the model after its current piece.
Pieces that pile up in the queue while the consumer is busy are sent as one.
"""

import contextvars
import logging
import queue
import threading
import time
from dataclasses import dataclass

from app.answers.deadlines import TICK, ticker
from app.answers.outcomes import (
    COMPLETE, ERROR, INTERRUPTED, STOPPED, TIMED_OUT, TOO_LONG, error_kind, is_retryable, public_error_message,
    verdict_for,
)
from app.operations.metrics import NO_METRICS
from app.operations.tracing import ModelCallEnd, end_model_span, model_call_span
from app.providers.ending import STOPPED_NATURALLY, Ending
from app.providers.left_out import LeftOut
from app.providers.text_stream import stream_text
from app.providers.thought import Thought
from app.providers.waiting import Waiting
from app.storage.answer_endings import Finished  # noqa: F401 - the pipeline's last event, imported from here

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Piece:
    text: str


@dataclass(frozen=True)
class Heartbeat:
    pass


HEARTBEAT = Heartbeat()
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


@dataclass(frozen=True)
class UpstreamLimits:
    """How long to wait for the model, how often to try again, and how long
    a whole answer may take.

    Retries happen only before the first piece, so no text is ever shown twice.
    """

    first_piece_seconds: float | None = None
    stall_seconds: float | None = None
    retries: int = 0
    backoff_seconds: float = 0.5
    answer_seconds: float | None = None

    @classmethod
    def from_config(cls, config):
        return cls(
            config.first_piece_timeout, config.stall_timeout, config.upstream_retries, config.retry_backoff,
            config.answer_max_seconds,
        )


class _RunningCount:
    def __init__(self):
        self._lock = threading.Lock()
        self.value = 0

    def add(self, delta):
        with self._lock:
            self.value += delta


# Model streams being read right now in this process (see /healthz): after
# every answer has ended, however it ended, this is back to zero.
MODEL_STREAMS_OPEN = _RunningCount()


class _ModelReader:
    """Reads the model's text pieces (`stream_text`) on its own thread into a queue."""

    def __init__(self, model, messages, search=False):
        self._model = model
        self._messages = messages
        self._search = search
        self.started = time.monotonic()
        self.queue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._stream = None
        self.pieces_read = 0
        self._held = None  # what `take` found after the text it joined
        # In the answer's log context (app/operations/log_context.py).
        self._thread = threading.Thread(
            target=contextvars.copy_context().run, args=(self._run,), name="model-reader", daemon=True,
        )
        self._thread.start()

    def take(self):
        """(item, pieces): the next text with every piece already queued behind
        it joined on (and how many pieces that was), or the `Ending`, a stop
        marker, an error or a deadlines.TICK with 0. Waits as long as it takes.

        Joining costs nothing while the server keeps up. When it falls behind
        (pieces wait in the queue), it catches up with one write per answer
        instead of one per piece, so being late does not cost yet more CPU.
        """
        if self._held is not None:
            item, self._held = self._held, None
        else:
            item = self.queue.get()
        if not isinstance(item, str):
            return item, 0
        texts = [item]
        while True:
            try:
                following = self.queue.get_nowait()
            except queue.Empty:
                break
            if not isinstance(following, str):
                self._held = following
                break
            texts.append(following)
        return "".join(texts), len(texts)

    def stop(self):
        """Stop reading; a stream that can (Gemini's) ends its upstream call
        now, even while this thread waits on it."""
        self._stop.set()
        self._cancel_upstream()

    def _cancel_upstream(self):
        cancel = getattr(self._stream, "cancel", None)
        if cancel is not None:
            cancel()

    def _run(self):
        # One span per call of the model (app/operations/tracing.py): retries
        # show as calls of their own. With tracing off, a shared no-op.
        with model_call_span(model_name(self._model), getattr(self._model, "_llm_type", "")) as span:
            self._read(span)

    def _read(self, span):
        stream, error = None, None
        ending = STOPPED_NATURALLY
        MODEL_STREAMS_OPEN.add(1)
        try:
            stream = self._stream = stream_text(self._model, self._messages, self._search)
            if self._stop.is_set():  # stopped while the stream was being made
                self._cancel_upstream()
                return
            for text in stream:
                if self._stop.is_set():
                    return
                if isinstance(text, Ending):
                    ending = text
                    continue
                if isinstance(text, (Thought, Waiting, LeftOut)):
                    self.queue.put(text)
                    continue
                self.pieces_read += 1
                self.queue.put(text)
            self.queue.put(ending)
        except BaseException as exc:  # noqa: BLE001 - reported to the reader
            error = exc
            self.queue.put(exc)
        finally:
            if stream is not None and hasattr(stream, "close"):
                stream.close()
            MODEL_STREAMS_OPEN.add(-1)
            if self._stop.is_set():
                log.info("model stream closed after %d pieces: stopped early", self.pieces_read)
            if span is not None:
                outcome = ERROR if error else STOPPED if self._stop.is_set() else verdict_for(ending).outcome
                end_model_span(span, ModelCallEnd(outcome, ending.finish_reason, ending.usage, self.pieces_read), error)


def model_name(model):
    """The model's name as configured (CHAT_MODEL), for messages that name it."""
    return getattr(model, "model_name", None) or getattr(model, "model", None)


def stream_reply(model, messages, heartbeat_seconds=15.0, on_finish=None, stop_key=None, limits=None, metrics=None,
                 search=False, left_out=None):
    """Yield `Piece`s as the model produces them (and `Thought`s, its thinking,
    as they come, and `Waiting`s, what it waits for before it starts), `HEARTBEAT` while it is silent, and last a `Finished` with
    the whole text and how it ended. `search` grounds the answer in Google
    Search (Gemini only).

    Closing this generator early (the client went away) stops the model stream.
    `on_finish(Finished)` is called exactly once however the answer ends, also
    on a close, where the outcome is INTERRUPTED: that is where callers save.
    `request_stop(stop_key)` ends it with the outcome STOPPED. `limits`
    (UpstreamLimits) bounds the wait for the first piece and between pieces,
    and retries a failing model before its first piece, and bounds the whole
    answer's time. `metrics` (app/operations/metrics.py) hears of the answer's
    start and end, and of each upstream error and retry. `left_out`
    (providers.left_out.LeftOut): what the caller did not send the model of
    the conversation; the `Finished` carries it, with what the model's own
    stream says it left out (the local model's context window).
    """
    return _reply_events(
        model, messages, heartbeat_seconds, on_finish, stop_key, limits or UpstreamLimits(), metrics or NO_METRICS,
        search, left_out or LeftOut(),
    )


def _reply_events(model, messages, heartbeat_seconds, on_finish, stop_key, limits, metrics, search, left_out):
    started = time.monotonic()
    metrics.answer_started()
    answer_deadline = started + limits.answer_seconds if limits.answer_seconds else None
    parts, thoughts, pieces, first_piece_at, result, attempt = [], [], 0, None, None, 0
    first_thought_at = None  # how long it thought: from here to the first piece
    reader = None
    wake_asked = None  # when the ticker was asked to wake this reader
    model_left_out = None  # what the model's stream left out (each retry says it again)

    def start_reader():
        nonlocal reader, wake_asked
        if reader is not None:
            reader.stop()
        reader, wake_asked = _ModelReader(model, messages, search), None
        if stop_key is not None:
            _live_readers[stop_key] = reader
        return reader.started

    def finish(outcome, error="", ending=None, kind=None):
        nonlocal result
        ttft = None if first_piece_at is None else first_piece_at - started
        thought_seconds = None
        if first_thought_at is not None:
            thought_seconds = (first_piece_at or time.monotonic()) - first_thought_at
        result = Finished(
            "".join(parts), outcome, error, ttft, time.monotonic() - started, pieces,
            *((ending.finish_reason, ending.category, ending.usage) if ending else (None, None, None)),
            thoughts="".join(thoughts), grounding=ending.grounding if ending else None, error_kind=kind,
            left_out=(left_out + model_left_out) or None, thought_seconds=thought_seconds,
        )
        metrics.answer_finished(result)
        if on_finish is not None:
            on_finish(result)
        return result

    def may_retry(reason):
        nonlocal attempt
        # Once anything was shown (thoughts too), a retry would show it twice.
        if parts or thoughts or attempt >= limits.retries:
            return False
        attempt += 1
        metrics.upstream_retry()
        delay = limits.backoff_seconds * 2 ** (attempt - 1)
        log.warning("model %s before its first piece; retry %d of %d in %.1f s", reason, attempt, limits.retries, delay)
        reader.stop()
        time.sleep(delay)
        return True

    last_activity = start_reader()
    last_sent = time.monotonic()
    try:
        while True:
            limit = limits.stall_seconds if parts or thoughts else limits.first_piece_seconds
            deadline = last_activity + limit if limit else None
            due = min(d for d in (last_sent + heartbeat_seconds, deadline, answer_deadline) if d is not None)
            # A wake-up already asked for this reader, no later than `due`,
            # will do: when it comes early, the next is asked for then.
            if wake_asked is None or wake_asked > due:
                ticker().wake_at(due, reader.queue)
                wake_asked = due
            item, count = reader.take()
            if item is TICK:
                wake_asked = None
                now = time.monotonic()
                if answer_deadline is not None and now >= answer_deadline:
                    log.error("answer cut at its time limit after %d pieces (%.0f s)", pieces, limits.answer_seconds)
                    yield finish(ERROR, TOO_LONG, kind="too-long")
                    return
                if deadline is not None and now >= deadline:
                    metrics.upstream_error("timeout")
                    if may_retry("timed out"):
                        last_activity = start_reader()
                        continue
                    log.error("model timed out after %d pieces (limit %.1f s)", pieces, limit)
                    yield finish(ERROR, TIMED_OUT, kind="timeout")
                    return
                if now - last_sent >= heartbeat_seconds:
                    last_sent = now
                    yield HEARTBEAT
                continue
            if isinstance(item, Ending):
                verdict = verdict_for(item)
                if verdict.outcome != COMPLETE:
                    log.warning("model ended with %s (%s) after %d pieces", verdict.outcome, item.finish_reason, pieces)
                yield finish(verdict.outcome, verdict.error, item)
                return
            if item is _STOP:
                yield finish(STOPPED)
                return
            if isinstance(item, Waiting):  # a sign of life: the wait for a first piece starts again
                last_activity = last_sent = time.monotonic()
                yield item
                continue
            if isinstance(item, LeftOut):
                model_left_out = item
                continue
            if isinstance(item, Thought):
                last_activity = last_sent = time.monotonic()
                if first_thought_at is None:
                    first_thought_at = last_activity
                thoughts.append(item.text)
                yield item
                continue
            if isinstance(item, BaseException):
                metrics.upstream_error(error_kind(item))
                if is_retryable(item) and may_retry(f"failed ({type(item).__name__})"):
                    last_activity = start_reader()
                    continue
                log.error("model failed after %d pieces", pieces, exc_info=item)
                yield finish(ERROR, public_error_message(item, model_name(model)), kind=error_kind(item))
                return
            last_activity = last_sent = time.monotonic()
            if first_piece_at is None:
                first_piece_at = last_activity
            parts.append(item)
            pieces += count
            yield Piece(item)
    finally:
        reader.stop()
        if stop_key is not None:
            _live_readers.pop(stop_key, None)
        if result is None:
            finish(INTERRUPTED)
