"""Following an answer from an offset: what every resumable stream reads.

A subscriber names the answer and the offset it already has (the length of
the text it has shown). It gets the text before that offset (to pick up
where the page is), then `Piece`s of new text, `HEARTBEAT` while nothing
comes, and last the answer's `Finished` once its outcome is saved. The
model's thinking comes as `Thought`s: first all of it so far (`replaces`),
then each new piece. Before its first piece, a follower in the generating
process hears what it waits for (`Waiting`: a queue, a model loading). Reload, a
second tab, a network drop and a worker restart are all this one path.

The answer is read from this process's memory when it is generated here
(claiming it if nobody generates it yet); otherwise from the database's
checkpoints: woken by PostgreSQL's NOTIFY where there is one
(app/storage/answer_notices.py), and at least every TAIL_SECONDS, when the
follower also notices a generator that died and marks its answer interrupted.
"""

import time

from app.answers.generation import claim_and_generate, reap_if_abandoned
from app.answers.reply_pipeline import HEARTBEAT, INTERRUPTED, Finished, Piece
from app.providers.thought import Thought
from app.providers.waiting import Waiting
from app.storage import queries
from app.storage.engine import session_for

TAIL_SECONDS = 0.25
DELETED = "This answer was deleted."


def follow_answer(app, answer_id, offset, heartbeat_seconds):
    """(the answer's text before `offset`, its events from there)."""
    live = claim_and_generate(app, answer_id)
    if live is not None:
        reader = live.reader(offset)
        return reader.before, _follow_live(reader, heartbeat_seconds)
    progress = _saved_up_to(app, answer_id, offset)
    before = progress.content[:offset] if progress else ""
    return before, _tail_database(app, answer_id, len(before), heartbeat_seconds)


def _saved_up_to(app, answer_id, offset, patience_seconds=5.0):
    """The answer as saved, once its checkpoints have reached `offset` (or it
    has ended). A page rendered by the generating process can be ahead of the
    last checkpoint; starting behind it would show text twice."""
    deadline = time.monotonic() + patience_seconds
    while True:
        with session_for(app) as db:
            progress = queries.answer_progress(db, answer_id)
        caught_up = progress is None or len(progress.content) >= offset or progress.outcome != queries.STREAMING
        if caught_up or time.monotonic() >= deadline:
            return progress
        app.extensions["answer_notices"].wait(answer_id, TAIL_SECONDS)


def _follow_live(reader, heartbeat_seconds):
    quiet_since = time.monotonic()
    text_shown = bool(reader.before)
    thoughts = reader.read_thoughts()
    if thoughts:
        yield Thought(thoughts, replaces=True)
    while True:
        waiting = reader.read_waiting()
        if waiting and not text_shown:  # until the answer begins
            yield Waiting(waiting)
        text = reader.read(timeout=heartbeat_seconds)
        thoughts = reader.read_thoughts()
        if thoughts:
            quiet_since = time.monotonic()
            yield Thought(thoughts)
        if text:
            text_shown = True
            quiet_since = time.monotonic()
            yield Piece(text)
        elif reader.finished is not None:
            yield reader.finished
            return
        elif time.monotonic() - quiet_since >= heartbeat_seconds:
            quiet_since = time.monotonic()
            yield HEARTBEAT


def _tail_database(app, answer_id, offset, heartbeat_seconds):
    quiet_since = time.monotonic()
    thoughts_seen = None  # until the first read: then all of them, replacing
    while True:
        live = app.extensions["live_answers"].find(answer_id)
        if live is not None:  # this process generates it after all
            yield from _follow_live(live.reader(offset), heartbeat_seconds)
            return
        with session_for(app) as db:
            progress = queries.answer_progress(db, answer_id)
        if progress is None:  # deleted meanwhile
            yield Finished("", INTERRUPTED, DELETED)
            return
        thoughts = progress.thoughts or ""
        if thoughts_seen is None or len(thoughts) > thoughts_seen:
            if thoughts:
                quiet_since = time.monotonic()
                yield Thought(thoughts[thoughts_seen or 0:], replaces=thoughts_seen is None)
            thoughts_seen = len(thoughts)
        if len(progress.content) > offset:
            quiet_since = time.monotonic()
            yield Piece(progress.content[offset:])
            offset = len(progress.content)
        if progress.outcome != queries.STREAMING:
            yield queries.finished_from(progress)
            return
        if progress.generator is None:  # the process that took the message has not claimed it (or died)
            live = claim_and_generate(app, answer_id)
            if live is not None:
                yield from _follow_live(live.reader(offset), heartbeat_seconds)
                return
        reap_if_abandoned(app, answer_id, progress)
        if time.monotonic() - quiet_since >= heartbeat_seconds:
            quiet_since = time.monotonic()
            yield HEARTBEAT
        app.extensions["answer_notices"].wait(answer_id, TAIL_SECONDS)
