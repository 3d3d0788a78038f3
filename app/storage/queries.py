"""Conversations and messages: saving turns and loading what the model sees."""

import re
from typing import NamedTuple

from sqlalchemy import inspect, select
from sqlalchemy.orm.attributes import set_committed_value

from app.storage.answer_endings import BLOCKED, INTERRUPTED, STOPPED, TRUNCATED, Finished
from app.storage import attachment_store, driver_sql
from app.storage.storage_use import size_of
from app.providers.ending import Usage
from app.providers.grounding import Grounding
from app.providers.left_out import LeftOut
from app.storage.models import Conversation, Message, new_conversation_id, utcnow

TITLE_CHARS = 60
STREAMING = "streaming"


def storable(text):
    """PostgreSQL text cannot hold NUL; it is shown as U+FFFD anyway (see rendering.markdown.escape_text)."""
    return text.replace("\0", "\ufffd")


# What markdown a title shows as plain words: a heading's or quote's or
# list item's mark at a line's start, emphasis, code ticks, and a link's URL.
_LINE_MARKS = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+]\s+|\d{1,9}[.)]\s+)", re.M)
_INLINE_MARKS = re.compile(r"\*\*|__|~~|`")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")


def title_from(text):
    plain = _INLINE_MARKS.sub("", _LINK.sub(r"\1", _LINE_MARKS.sub("", text)))
    line = " ".join(plain.split()) or " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def get_conversation(session, owner_id, conversation_id):
    """The owner's conversation, or None: someone else's is as absent as a missing one."""
    conversation = session.get(Conversation, conversation_id) if conversation_id else None
    if conversation is None or conversation.owner_id != owner_id:
        return None
    return conversation


def start_conversation(owner_id, first_message, model=None, instructions=None):
    """A new conversation, saved by `add_exchange` with its first exchange."""
    now = utcnow()
    return Conversation(
        id=new_conversation_id(), owner_id=owner_id, title=title_from(storable(first_message)),
        created_at=now, updated_at=now, model=model, instructions=storable(instructions) if instructions else None,
    )


# The writes every answer makes run as SQL on the driver's cursor
# (app/storage/driver_sql.py): through SQLAlchemy Core they cost 4 times the CPU
# (242 against 62 us for a new conversation's rows), and under load that CPU
# is taken from every other stream in the worker.
_INSERT_CONVERSATION = """
    INSERT INTO conversations (id, owner_id, title, created_at, updated_at, model, instructions, stored_bytes)
    VALUES (:id, :owner_id, :title, :created_at, :now, :model, :instructions, :stored_bytes)"""
_TOUCH_CONVERSATION = """
    UPDATE conversations SET updated_at = :now, stored_bytes = stored_bytes + :stored_bytes
    WHERE id = :conversation_id"""
_INSERT_MESSAGE = """
    INSERT INTO messages (conversation_id, role, content, outcome, error, model, created_at, request_id, send_key,
                          search, thinking, stored_bytes)
    VALUES (:conversation_id, :role, :content, :outcome, '', :model, :now, :request_id, :send_key, :search,
            :thinking, :stored_bytes)
    RETURNING id"""
_CLAIM_ANSWER = f"""
    UPDATE messages SET generator = :generator, alive_at = :now
    WHERE id = :answer_id AND outcome = '{STREAMING}' AND generator IS NULL
    RETURNING id"""
_REAP_ANSWER = f"""
    UPDATE messages SET outcome = '{INTERRUPTED}', error = :error
    WHERE id = :answer_id AND outcome = '{STREAMING}'
      AND ((generator IS NOT NULL AND alive_at < :alive_before)
           OR (generator IS NULL AND created_at < :created_before))
    RETURNING id"""
_FINISHED_COLUMNS = """content = :content, rendered = :rendered, error = :error,
    first_piece_seconds = :first_piece_seconds, pieces_per_second = :pieces_per_second,
    answer_seconds = :answer_seconds, thought_seconds = :thought_seconds,
    finish_reason = :finish_reason, block_category = :block_category,
    input_tokens = :input_tokens, output_tokens = :output_tokens, reasoning_tokens = :reasoning_tokens,
    input_modalities = :input_modalities,
    thoughts = :thoughts, grounding = :grounding, left_out = :left_out, stored_bytes = :stored_bytes"""
# Before the answer's row is written: its conversation's count changes by
# what the answer keeps now less what it kept (nothing, if it was streaming).
_COUNT_ANSWER = """
    UPDATE conversations SET stored_bytes = stored_bytes + :stored_bytes
        - (SELECT stored_bytes FROM messages WHERE id = :answer_id)
    WHERE id = (SELECT conversation_id FROM messages WHERE id = :answer_id)"""
_SAVE_FINISHED = f"UPDATE messages SET outcome = :outcome, {_FINISHED_COLUMNS} WHERE id = :answer_id"
# A Stop handled by another process marks the answer first; the stream then
# only sees its client go away, and the answer stays stopped.
_SAVE_INTERRUPTED = f"""
    UPDATE messages
    SET outcome = CASE WHEN outcome = '{STOPPED}' THEN '{STOPPED}' ELSE '{INTERRUPTED}' END, {_FINISHED_COLUMNS}
    WHERE id = :answer_id"""


def add_exchange(connection, conversation, user_text, model_label, request_id=None, send_key=None, search=False,
                 thinking=None):
    """Save the user's turn (unless None), an empty answer marked streaming,
    and the conversation if `start_conversation` just made it, on
    `connection` (a Core connection in a transaction; the caller commits).
    Returns (question, answer): Messages not in any session, and
    `conversation.messages` is left as it was. `request_id`: the request's
    that asked (app/operations/request_ids.py); `send_key`: the composer's
    key for this message (a second message with the same key fails the
    unique index: IntegrityError); `search`: ground the answer in Google
    Search (kept on both); `thinking`: the message's Thinking switch (None:
    not given; kept on both).
    """
    now = utcnow()
    stored_now = driver_sql.timestamp(connection, now)
    question_bytes = size_of(user_text)
    if inspect(conversation).transient:
        driver_sql.run(connection, _INSERT_CONVERSATION, {
            "id": conversation.id, "owner_id": conversation.owner_id, "title": conversation.title,
            "created_at": driver_sql.timestamp(connection, conversation.created_at), "now": stored_now,
            "model": conversation.model, "instructions": conversation.instructions, "stored_bytes": question_bytes,
        })
    else:
        driver_sql.run(connection, _TOUCH_CONVERSATION, {"conversation_id": conversation.id, "now": stored_now,
                                                         "stored_bytes": question_bytes})
        set_committed_value(conversation, "updated_at", now)
    rows = [{"role": "assistant", "content": "", "outcome": STREAMING, "model": model_label, "request_id": request_id,
             "send_key": None, "search": bool(search), "thinking": thinking, "stored_bytes": 0}]
    if user_text is not None:
        rows.insert(0, {"role": "user", "content": storable(user_text), "outcome": "complete", "model": "",
                        "request_id": request_id, "send_key": send_key, "search": bool(search),
                        "thinking": thinking, "stored_bytes": question_bytes})
    messages = []
    for row in rows:
        message_id = driver_sql.run(connection, _INSERT_MESSAGE, {
            **row, "conversation_id": conversation.id, "now": stored_now,
        })
        messages.append(Message(
            id=message_id, conversation_id=conversation.id, error="", first_piece_seconds=None,
            pieces_per_second=None, created_at=now, **row,
        ))
    return (messages[0] if user_text is not None else None), messages[-1]


def conversation_answers(session, conversation_id):
    return list(session.scalars(select(Message).where(Message.conversation_id == conversation_id,
                                                      Message.role == "assistant")))


def conversation_of_send_key(session, owner_id, send_key):
    """The owner's conversation holding the message sent with `send_key`, or None."""
    return session.scalar(
        select(Conversation.id).join(Message, Message.conversation_id == Conversation.id)
        .where(Message.send_key == send_key, Conversation.owner_id == owner_id)
    )


# A checkpoint also shows that the generator is alive, and finds out whether
# the answer is still streaming: a Stop from any process ends that.
_SAVE_PARTIALS = f"""
    UPDATE messages SET content = :content, thoughts = :thoughts, alive_at = :now
    WHERE id = :answer_id AND outcome = '{STREAMING}'"""


def save_partials(connection, answers, now):
    """Checkpoints of several answers at once: `answers` are (id, text so far,
    thoughts so far). Returns the ids still streaming (the others were stopped,
    reaped or deleted). `connection`: a Core connection in a transaction."""
    stamp = driver_sql.timestamp(connection, now)
    driver_sql.run_many(connection, _SAVE_PARTIALS, [
        {"answer_id": answer_id, "content": storable(text), "thoughts": storable(thoughts) or None, "now": stamp}
        for answer_id, text, thoughts in answers
    ])
    # Whole numbers of our own, written into the statement: no parameter
    # list whose length changes with every call.
    ids = ",".join(str(int(answer_id)) for answer_id, _text, _thoughts in answers)
    found = driver_sql.rows(connection, f"SELECT id FROM messages WHERE outcome = '{STREAMING}' AND id IN ({ids})",
                            (), cached=False)
    return {row[0] for row in found}


def claim_answer(connection, answer_id, generator, now):
    """Make `generator` the one process that generates `answer_id`; False if
    another already is, or the answer is no longer streaming."""
    params = {"answer_id": answer_id, "generator": generator, "now": driver_sql.timestamp(connection, now)}
    return driver_sql.run(connection, _CLAIM_ANSWER, params) is not None


def reap_answer(connection, answer_id, error, alive_before, created_before):
    """Mark a streaming answer interrupted if its generator has not checkpointed
    since `alive_before`, or nobody claimed it since `created_before`."""
    return driver_sql.run(connection, _REAP_ANSWER, {
        "answer_id": answer_id, "error": error,
        "alive_before": driver_sql.timestamp(connection, alive_before),
        "created_before": driver_sql.timestamp(connection, created_before),
    }) is not None


def owned_answer(session, owner_id, answer_id):
    """The owner's answer (an assistant message), or None."""
    answer = session.get(Message, answer_id)
    if answer is None or answer.role != "assistant" or answer.conversation.owner_id != owner_id:
        return None
    return answer


# Read by every subscription and every answer's start, so on the driver's
# cursor too (the ORM's loads were a fifth of a worker's CPU in a burst).
_ANSWER_REQUEST = """
    SELECT c.owner_id, c.id, a.request_id, a.model, a.search, c.instructions, a.thinking
    FROM messages a JOIN conversations c ON c.id = a.conversation_id
    WHERE a.id = :answer_id AND a.role = 'assistant'"""
_UNCLAIMED = f"""
    SELECT id FROM messages WHERE id = :answer_id AND outcome = '{STREAMING}' AND generator IS NULL"""
_TURNS_BEFORE = f"""
    SELECT m.role, m.content, m.outcome, m.id FROM messages a JOIN messages m ON m.conversation_id = a.conversation_id
    WHERE a.id = :answer_id AND m.id < a.id AND (m.content != '' OR m.outcome = '{BLOCKED}')
    ORDER BY m.id"""


def is_unclaimed(connection, answer_id):
    """True if `answer_id` is streaming and no process has claimed it yet."""
    return bool(driver_sql.rows(connection, _UNCLAIMED, {"answer_id": answer_id}))


class AnswerRequest(NamedTuple):
    """Who asked for an answer and what it asks the model besides the turns."""

    owner_id: str
    conversation_id: str
    request_id: str | None
    model_label: str
    search: bool
    instructions: str | None
    thinking: bool | None = None  # the message's Thinking switch (None: not given)


def answer_request(connection, answer_id):
    """Answer `answer_id`'s AnswerRequest, or None if there is no such answer."""
    found = driver_sql.rows(connection, _ANSWER_REQUEST, {"answer_id": answer_id})
    if not found:
        return None
    owner_id, conversation_id, request_id, model_label, search, instructions, thinking = found[0]
    return AnswerRequest(owner_id, conversation_id, request_id, model_label, bool(search), instructions,
                         None if thinking is None else bool(thinking))


def owned_answer_conversation(connection, owner_id, answer_id):
    """The conversation id of `owner_id`'s answer `answer_id`, or None: someone
    else's is as absent as a missing one."""
    found = answer_request(connection, answer_id)
    return found.conversation_id if found is not None and found.owner_id == owner_id else None


# What a finished answer's bubble shows (templates/_message.html).
_SHOWN_COLUMNS = (
    "id", "conversation_id", "role", "content", "outcome", "error", "model", "first_piece_seconds",
    "pieces_per_second", "answer_seconds", "rendered", "finish_reason", "block_category", "input_tokens", "output_tokens",
    "reasoning_tokens", "input_modalities", "thought_seconds", "request_id", "thoughts", "grounding", "search",
    "left_out",
)
_SHOWN_MESSAGE = f"SELECT {', '.join(_SHOWN_COLUMNS)} FROM messages WHERE id = :answer_id"


def shown_message(connection, answer_id):
    """Answer `answer_id` as its bubble shows it: a Message outside any
    session (read on the driver's cursor: every answer's end loads one, and
    the ORM's load was 6 % of a worker's CPU in a burst), or None if deleted."""
    found = driver_sql.rows(connection, _SHOWN_MESSAGE, {"answer_id": answer_id})
    if not found:
        return None
    columns = dict(zip(_SHOWN_COLUMNS, found[0]))
    columns["search"] = bool(columns["search"])
    return Message(**columns)


def answer_progress(session, answer_id):
    """An answer as last saved (content, outcome, error, generator, alive_at,
    created_at, and how it ended: see `finished_from`), or None if it was deleted."""
    columns = (
        Message.content, Message.outcome, Message.error, Message.generator, Message.alive_at, Message.created_at,
        Message.finish_reason, Message.block_category, Message.input_tokens, Message.output_tokens,
        Message.reasoning_tokens, Message.input_modalities, Message.thoughts, Message.grounding, Message.left_out,
    )
    return session.execute(select(*columns).where(Message.id == answer_id)).first()


def turns_before(connection, answer_id, with_ids=False):
    """Every (role, text) turn before `answer_id` in its conversation, oldest
    first, but for blocked exchanges: a question Gemini refused, or whose
    answer it blocked, is not sent again (it would be refused again).
    `with_ids`: (role, text, message id), to find each turn's files."""
    rows = driver_sql.rows(connection, _TURNS_BEFORE, {"answer_id": answer_id})
    turns = []
    for role, content, outcome, message_id in rows:
        if outcome == BLOCKED:
            if turns and turns[-1][0] == "user":
                turns.pop()
            continue
        turns.append((role, content, message_id) if with_ids else (role, content))
    return turns


def change_instructions(session, conversation, instructions):
    """A conversation's instructions for its next answers ("" for none)."""
    conversation.instructions = storable(instructions) or None
    session.commit()


def rename_conversation(session, conversation, title):
    conversation.title = title_from(storable(title)) or conversation.title
    session.commit()


def lock_conversations(session, condition):
    """Take the row locks of the conversations matching `condition` before any
    of their messages'. An answer that ends updates its conversation's row,
    then its message's (save_answer); a delete that took the messages first
    would wait on the conversation while the answer waits on the message, and
    PostgreSQL would abort one of them as a deadlock. (SQLite has one writer
    at a time and no row locks: nothing is rendered there.)"""
    session.execute(select(Conversation.id).where(condition).with_for_update())


def delete_conversation(session, conversation):
    lock_conversations(session, Conversation.id == conversation.id)
    session.delete(conversation)
    session.flush()
    attachment_store.drop_unlinked(session.connection(), conversation.owner_id)  # its files, unless kept elsewhere
    session.commit()


def save_answer(connection, answer_id, finished, rendered):
    """Save how a streamed answer ended, and its text `rendered` as HTML
    (nothing if the conversation was deleted meanwhile). `connection`: a Core
    connection in a transaction."""
    statement = _SAVE_INTERRUPTED if finished.outcome == INTERRUPTED else _SAVE_FINISHED
    columns = finished_columns(finished)
    stored_bytes = size_of(columns["content"], rendered, columns["thoughts"], columns["grounding"])
    params = {"answer_id": answer_id, "rendered": rendered, "stored_bytes": stored_bytes, **columns}
    driver_sql.run(connection, _COUNT_ANSWER, params)
    driver_sql.run(connection, statement, params)


# Continue: a truncated answer that is its conversation's last message is
# streaming again, claimed by the process that continues it, in one statement
# (of two Continue clicks, one reopens it, the other finds it streaming).
_REOPEN_TRUNCATED = f"""
    UPDATE messages SET outcome = '{STREAMING}', error = '', generator = :generator, alive_at = :now
    WHERE id = :answer_id AND role = 'assistant' AND outcome = '{TRUNCATED}'
      AND conversation_id IN (SELECT id FROM conversations WHERE owner_id = :owner_id)
      AND NOT EXISTS (SELECT 1 FROM messages later
                      WHERE later.conversation_id = messages.conversation_id AND later.id > messages.id)
    RETURNING content, thoughts, input_tokens, output_tokens, reasoning_tokens, input_modalities, answer_seconds"""


class Reopened(NamedTuple):
    """What a reopened answer already has: the continuation is added to it."""

    text: str
    thoughts: str
    usage: Usage | None
    seconds: float = 0.0  # how long the model took to write it


def reopen_truncated(connection, owner_id, answer_id, generator, now):
    """Make `owner_id`'s truncated answer `answer_id`, the last message of its
    conversation, streaming again and claimed by `generator`; its Reopened, or
    None if it is not theirs, not truncated (already continued) or not last.
    `connection`: a Core connection in a transaction."""
    found = driver_sql.rows(connection, _REOPEN_TRUNCATED, {
        "answer_id": answer_id, "owner_id": owner_id, "generator": generator,
        "now": driver_sql.timestamp(connection, now),
    })
    if not found:
        return None
    text, thoughts, input_tokens, output_tokens, reasoning_tokens, modalities, seconds = found[0]
    return Reopened(text or "", thoughts or "", Usage.stored(input_tokens, output_tokens, reasoning_tokens, modalities),
                    seconds or 0.0)


def mark_stopped(session, owner_id, answer_id):
    """Mark the owner's streaming answer stopped; the answer, or None if it is not theirs."""
    answer = owned_answer(session, owner_id, answer_id)
    if answer is not None and answer.outcome == STREAMING:
        answer.outcome = STOPPED
        session.commit()
    return answer


def last_ids(messages):
    """(id of the last question, id of the last answer) in a transcript."""
    question = next((m.id for m in reversed(messages) if m.role == "user"), None)
    answer = messages[-1].id if messages and messages[-1].role == "assistant" else None
    return question, answer


class AnswerBeingWritten(Exception):
    """Regenerate or Edit found the question's answer still streaming, or
    its exchange already replaced by a request that came at the same time."""


# A removal for Regenerate or Edit deletes a row only as it was read and only
# once its answer has ended: of two requests that read the same exchange, the
# database lets one delete it (PostgreSQL makes the other wait for its row
# lock, then finds nothing; SQLite runs one writer at a time), and the other
# is told, not sent to the model a second time.
_REMOVE_ENDED = f"DELETE FROM messages WHERE id = :id AND outcome != '{STREAMING}' RETURNING id"


def _remove_ended(session, conversation, count):
    """Delete the last `count` messages of `conversation` in the session's
    transaction, or raise AnswerBeingWritten; their ids, newest first."""
    messages = list(conversation.messages)
    removed = messages[len(messages) - count:][::-1]
    connection = session.connection()
    for message in removed:
        if driver_sql.run(connection, _REMOVE_ENDED, {"id": message.id}) is None:
            raise AnswerBeingWritten(message.id)  # the caller's session rolls back what was deleted
    for message in removed:
        session.expunge(message)
    # The collection without them, as if loaded so: the ORM deletes nothing more.
    set_committed_value(conversation, "messages", messages[:len(messages) - count])
    return [message.id for message in removed]


def drop_last_answer(session, conversation):
    """Remove the last answer to answer its question again; (removed ids,
    question). AnswerBeingWritten if it is still streaming or already gone."""
    messages = conversation.messages
    removed = []
    if messages and messages[-1].role == "assistant":
        removed = _remove_ended(session, conversation, 1)
    messages = conversation.messages
    question = messages[-1] if messages and messages[-1].role == "user" else None
    return removed, question


def last_question(conversation):
    return next((m for m in reversed(conversation.messages) if m.role == "user"), None)


def drop_last_exchange(session, conversation):
    """Remove the last question and its answer, to send an edited question;
    removed ids. AnswerBeingWritten if the answer is still streaming or the
    exchange is already gone."""
    messages = conversation.messages
    count = 0
    for message in reversed(messages):
        count += 1
        if message.role == "user":
            break
    return _remove_ended(session, conversation, count) if count else []


def last_answer_streaming(conversation):
    """The conversation's last message if it is an answer still streaming, else None."""
    messages = conversation.messages
    last = messages[-1] if messages else None
    return last if last is not None and last.role == "assistant" and last.outcome == STREAMING else None


def finished_columns(finished):
    """A Message's columns for how a streamed answer ended (a reply_pipeline.Finished)."""
    usage = finished.usage
    return {
        "content": storable(finished.text),
        "outcome": finished.outcome,
        "error": finished.error,
        "first_piece_seconds": finished.first_piece_seconds,
        "pieces_per_second": finished.pieces_per_second,
        "answer_seconds": round(finished.seconds, 3) if finished.seconds else None,
        "thought_seconds": round(finished.thought_seconds, 3) if finished.thought_seconds is not None else None,
        "finish_reason": finished.finish_reason,
        "block_category": finished.category,
        "input_tokens": usage.input_tokens if usage else None,
        "output_tokens": usage.output_tokens if usage else None,
        "reasoning_tokens": usage.reasoning_tokens if usage else None,
        "input_modalities": usage.modalities_json() if usage else None,
        "thoughts": storable(finished.thoughts) or None,
        "grounding": finished.grounding.to_json() if finished.grounding else None,
        "left_out": finished.left_out.to_json() if finished.left_out else None,
    }


def finished_from(progress):
    """The `Finished` an ended answer's saved row (answer_progress) stands for."""
    usage = Usage.stored(progress.input_tokens, progress.output_tokens, progress.reasoning_tokens,
                         progress.input_modalities)
    return Finished(progress.content, progress.outcome, progress.error, finish_reason=progress.finish_reason,
                    category=progress.block_category, usage=usage, thoughts=progress.thoughts or "",
                    grounding=Grounding.from_json(progress.grounding), left_out=LeftOut.from_json(progress.left_out))

