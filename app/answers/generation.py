"""Generating an answer in the background, detached from any request.

An answer is saved as "streaming" with no generator when its question is
sent. The first process that needs it generated claims it in the database
(the page's first subscriber, so that the tab that asked reads it from this
process's memory; or the process that took the message, if nobody has
subscribed after CLAIM_GRACE_SECONDS) and runs the reply pipeline on a
task of its own: pieces go to the answer's live log (app/answers/live.py),
the process's checkpoints save it to the database every
CHAT_CHECKPOINT_SECONDS (app/answers/checkpoints.py), and the outcome at
the end. Leaving the page, reloading or a second tab change
nothing here.

Stop is a flag in the database that any process can set: a checkpoint that
finds the answer no longer streaming stops the model, even while the model
is silent, so Stop takes effect within a checkpoint period. A generator that
dies stops checkpointing, and the next subscriber that follows the answer
from the database marks it interrupted (`reap_if_abandoned`).
"""

import collections
import functools
import logging
import os
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from app.answers.continuation import continue_instruction, joined
from app.answers.model_history import history_for_model, to_chat_messages
from app.answers.prices import PriceTable, model_name_of
from app.answers.reply_pipeline import Finished, Piece, UpstreamLimits, stream_reply
from app.providers import gemini_models
from app.providers.thought import Thought
from app.providers.waiting import Waiting
from app.operations import log_context
from app.storage import answer_notices, attachment_store, billed_calls, queries
from app.storage.engine import session_for
from app.storage.models import utcnow

log = logging.getLogger(__name__)

# The page's own subscriber normally claims an answer within milliseconds of
# the message; after this long the process that took the message generates
# it anyway (the tab was closed, or JavaScript is off).
CLAIM_GRACE_SECONDS = 2.0
# A generator checkpoints every CHAT_CHECKPOINT_SECONDS; one silent for this
# many periods (and at least ABANDONED_MIN_SECONDS) is taken for dead.
ABANDONED_PERIODS = 20
ABANDONED_MIN_SECONDS = 10.0
ABANDONED_ERROR = "The server that was writing this answer stopped before it finished."

_process_id = None


class AnswerTasks:
    """The answers an app is generating, and its pending claims: what a
    worker that is shutting down waits for (gunicorn.conf.py's worker_exit),
    and what a test's app ends before its database goes.

    Pending claims wait in one queue, run in order by one sweeper thread per
    process while there are any: a timer thread per message cost 2 % of a
    worker's CPU in a burst of 1,000 (docs/benchmarks.md)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running = set()
        self._pending = collections.deque()  # (time.monotonic() when due, claim); due in the order added
        self._sweeper = None

    def claim_later(self, seconds, claim):
        """Call `claim()` in `seconds` (on the sweeper thread), unless `wait` cancels it first."""
        with self._lock:
            self._pending.append((time.monotonic() + seconds, claim))
            if self._sweeper is not None:
                return
            # Started under the lock: `wait` may join it at once.
            self._sweeper = threading.Thread(target=self._sweep, name="pending-claims", daemon=True)
            self._sweeper.start()

    def _sweep(self):
        while True:
            with self._lock:
                if not self._pending:
                    self._sweeper = None
                    return
                due, claim = self._pending[0]
                is_due = due <= time.monotonic()
                if is_due:
                    self._pending.popleft()
            if is_due:
                claim()
            else:
                time.sleep(due - time.monotonic())

    def start(self, thread):
        with self._lock:
            self._running.add(thread)
        thread.start()

    def done(self, thread):
        with self._lock:
            self._running.discard(thread)

    def wait(self, timeout):
        """Cancel pending claims and wait up to `timeout` seconds for answers
        being generated; True if none is left."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._pending.clear()
            sweeper = self._sweeper
        if sweeper is not None:  # a claim it is making may start one more answer
            sweeper.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            running = list(self._running)
        for task in running:
            task.join(max(0.0, deadline - time.monotonic()))
        return not any(task.is_alive() for task in running)


def generator_id():
    """This process, as named in the database: host, a random tag, pid (made
    after the fork)."""
    global _process_id
    if _process_id is None or not _process_id.endswith(f":{os.getpid()}"):
        _process_id = f"{socket.gethostname()[:30]}:{secrets.token_hex(4)}:{os.getpid()}"
    return _process_id


def _died_on_this_host(generator):
    """True if `generator` was a process on this machine that no longer runs
    (a worker killed or restarted): no need to wait for its silence."""
    host, _tag, pid = generator.rsplit(":", 2)
    if host != socket.gethostname()[:30] or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim_and_generate(app, answer_id):
    """The answer's live log if this process generates it, claiming it first
    if nobody does yet; None if another process generates it or it has ended."""
    live_answers = app.extensions["live_answers"]
    live = live_answers.find(answer_id)
    if live is not None:
        return live
    # The claim in the database is what makes one process the generator; no
    # lock is held meanwhile, so a burst of subscribers does not queue behind
    # each other's waits for the write lock. (A second subscriber here that
    # loses the race follows from the database until it finds the answer live.)
    with app.extensions["db_engine"].begin() as connection:
        if not queries.claim_answer(connection, answer_id, generator_id(), utcnow()):
            return None
    return _start(app, answer_id)


def continue_answer(app, owner_id, answer_id):
    """Continue `owner_id`'s truncated answer `answer_id` (the last of its
    conversation) from where it stopped, into the same answer, generated by
    this process. Returns what it had when reopened (a queries.Reopened: its
    live log starts with that text, so a subscriber's offsets go on from it),
    or None if it cannot be continued (not theirs, not truncated: continued
    already, or not the last answer)."""
    with app.extensions["db_engine"].begin() as connection:
        # Reopened and claimed at once: an unclaimed answer created long ago
        # would look abandoned to a follower and be reaped before anyone claimed it.
        earlier = queries.reopen_truncated(connection, owner_id, answer_id, generator_id(), utcnow())
    if earlier is not None:
        _start(app, answer_id, earlier)
    return earlier


def _start(app, answer_id, earlier=None):
    """Generate the claimed `answer_id` on a task of its own; its live log.
    `earlier`: the queries.Reopened answer it continues, if it does."""
    live_answers = app.extensions["live_answers"]
    live = live_answers.register(answer_id)
    if earlier is not None:
        live.append(earlier.text)
        if earlier.thoughts:
            live.append_thought(earlier.thoughts)
    app.extensions["checkpoints"].ensure_running()
    # The answer's stream slot was taken when it was asked for (app/web/
    # rate_limits.py); its end frees it, in this process.
    release = functools.partial(app.extensions["limiter"].release_answer, answer_id)
    try:
        _owner, asked, log_fields = _model_request(app, answer_id, earlier)
    except BaseException:
        live_answers.forget(answer_id)
        raise
    tasks = app.extensions["answer_tasks"]
    thread = threading.Thread(
        target=_generate, args=(app, live, asked, release, tasks, log_fields, earlier), name=f"answer-{answer_id}",
        daemon=True,
    )
    tasks.start(thread)
    return live


def generate_unless_claimed(app, answer_id):
    """Generate `answer_id` here if no process has claimed it CLAIM_GRACE_SECONDS from now."""

    def claim_if_still_waiting():
        try:
            # A read first: a subscriber has almost always claimed it.
            with app.extensions["db_engine"].connect() as connection:
                unclaimed = queries.is_unclaimed(connection, answer_id)
            if unclaimed:
                claim_and_generate(app, answer_id)
        except Exception:  # noqa: BLE001 - logged; a subscriber or the reaper takes over
            log.exception("could not start answer %s", answer_id)

    app.extensions["answer_tasks"].claim_later(CLAIM_GRACE_SECONDS, claim_if_still_waiting)


@dataclass(frozen=True)
class ModelRequest:
    """What an answer asks of which model."""

    model: object  # the LangChain chat model that writes it
    messages: list  # its instructions and turns, as LangChain messages
    search: bool
    # Who it is billed to, and where (app/storage/billed_calls.py): known
    # before it starts, since the conversation may be deleted before it ends.
    owner_id: str = ""
    conversation_id: str | None = None
    model_label: str = ""
    # What of the conversation it is not sent (providers.left_out.LeftOut):
    # the answer keeps it, and its bubble says it.
    left_out: object = None


def _model_request(app, answer_id, earlier=None):
    """(owner, the ModelRequest, the fields its log lines carry) for
    `answer_id`, from what is stored; `earlier`: the text it continues."""
    config = app.config["CHAT"]
    models = app.extensions["models"]
    with app.extensions["db_engine"].connect() as connection:
        asked = queries.answer_request(connection, answer_id)
        turns = queries.turns_before(connection, answer_id, with_ids=True)
        if earlier is not None:
            turns.append(("assistant", earlier.text, answer_id))
        files = attachment_store.files_listed_before(connection, answer_id)
        # Only the bytes of the files it sends are read (they fit one request).
        turns, left_out = history_for_model(turns, files, config,
                                            functools.partial(attachment_store.files_data, connection))
    # The task's log lines name the request that asked for the answer.
    log_fields = dict(request_id=asked.request_id, owner=log_context.owner_hash(asked.owner_id),
                      conversation_id=asked.conversation_id, answer_id=answer_id)
    messages = to_chat_messages(turns, asked.instructions)
    if earlier is not None:
        messages.append(continue_instruction())
    name = models.name_for_label(asked.model_label)
    model = gemini_models.with_thinking(models.get(name), answer_thinking_budget(config, name, asked.thinking))
    request = ModelRequest(model, messages, asked.search, asked.owner_id, asked.conversation_id, asked.model_label,
                           left_out)
    return asked.owner_id, request, log_fields


def answer_thinking_budget(config, name, thinking):
    """The thinking budget of an answer whose message's switch was `thinking`
    (checked when it was saved: app/answers/exchanges.thinking_allowed), or
    None for the model's own setting."""
    if thinking is None or not config.shows_thinking:
        return None
    try:
        return gemini_models.thinking_budget_for(name, thinking, config.thinking_budget)
    except gemini_models.ThinkingRefused:  # the model's rules changed since: its own way
        return None


def price_table(app):
    """The app's PriceTable (CHAT_PRICES over the built-in prices), made once."""
    table = app.extensions.get("price_table")
    if table is None:
        table = app.extensions["price_table"] = PriceTable.from_config(app.config["CHAT"])
    return table


def record_billed_call(app, connection, asked, answer_id, finished):
    """Record the model call behind `finished` for the operator's usage report."""
    model = model_name_of(asked.model_label)
    cost = price_table(app).estimate(model, finished.usage, grounded=bool(finished.grounding))
    billed_calls.record(connection, asked.owner_id, asked.conversation_id, answer_id, model, finished, cost)


def _generate(app, live, asked, release, tasks, log_fields, earlier=None):
    log_context.clear()
    log_context.bind(**log_fields)
    config = app.config["CHAT"]
    engine = app.extensions["db_engine"]
    answer_id = live.answer_id

    def save_finished(called):
        # `called`: this model call's end; the answer is what it continued
        # (if anything) and then that. The call alone is billed.
        finished = joined(earlier, called)
        # The answer as pages show it, made once here (the app gives the
        # renderer: this package knows no HTML), before the transaction: it
        # may take a while.
        try:
            rendered = app.extensions["render_answer"](finished.text, finished.grounding)
        except Exception:  # noqa: BLE001 - the text matters more: pages render it themselves
            log.exception("answer %s: rendering failed", answer_id)
            rendered = None
        with engine.begin() as connection:
            queries.save_answer(connection, answer_id, finished, rendered)
            record_billed_call(app, connection, asked, answer_id, called)
            answer_notices.announce(connection, answer_id)
        log.info("answer finished: %s", finished.outcome, extra={
            "outcome": finished.outcome, "finish_reason": finished.finish_reason, "pieces": finished.pieces,
            "first_piece_seconds": finished.first_piece_seconds, "seconds": round(finished.seconds, 3),
        })

    # Checkpoints are the process's task (app/answers/checkpoints.py), which
    # also ends this answer (request_stop) when any process stopped it.
    events = stream_reply(
        asked.model, asked.messages, config.heartbeat_seconds, on_finish=save_finished,
        stop_key=answer_id, limits=UpstreamLimits.from_config(config),
        metrics=app.extensions["metrics"].for_model(app.extensions["models"].name_for_label(asked.model_label)),
        search=asked.search, left_out=asked.left_out,
    )
    try:
        for event in events:
            if isinstance(event, Piece):
                live.append(event.text)
            elif isinstance(event, Thought):
                live.append_thought(event.text)
            elif isinstance(event, Waiting):
                live.set_waiting(event.text)
            elif isinstance(event, Finished):
                live.finish(joined(earlier, event))
    except Exception:  # noqa: BLE001 - saving its end failed: the followers must still hear of it
        log.exception("answer %s: saving failed", answer_id)
        events.close()
        if live.finished is None:
            live.finish(Finished(live.text, "error", "The answer could not be saved. Please try again."))
    finally:
        app.extensions["live_answers"].forget(answer_id)
        release()
        tasks.done(threading.current_thread())


def reap_if_abandoned(app, answer_id, progress):
    """Mark `answer_id` interrupted if its generator has died, or nobody ever
    claimed it; `progress` is the answer as just read (queries.answer_progress).
    True if it did."""
    now = utcnow()
    silent = timedelta(seconds=max(ABANDONED_MIN_SECONDS, ABANDONED_PERIODS * app.config["CHAT"].checkpoint_seconds))
    alive_before = now - silent
    created_before = now - silent - timedelta(seconds=CLAIM_GRACE_SECONDS)
    if progress.generator is not None and _died_on_this_host(progress.generator):
        alive_before = now  # whatever it last said
    elif progress.generator is not None and progress.alive_at >= alive_before:
        return False
    if progress.generator is None and progress.created_at >= created_before:
        return False
    with app.extensions["db_engine"].begin() as connection:
        reaped = queries.reap_answer(connection, answer_id, ABANDONED_ERROR, alive_before, created_before)
    if reaped:  # its generator will never free its stream slot
        app.extensions["limiter"].release_answer(answer_id)
    return reaped


def is_being_written(app, answer_id):
    """True if `answer_id` is streaming and its generator (or the process due
    to claim it) is alive; an abandoned one is marked interrupted on the way."""
    with session_for(app) as db:
        progress = queries.answer_progress(db, answer_id)
    if progress is None or progress.outcome != queries.STREAMING:
        return False
    return not reap_if_abandoned(app, answer_id, progress)
