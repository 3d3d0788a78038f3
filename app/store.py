"""Conversations and messages: saving turns and loading what the model sees."""

from sqlalchemy import bindparam, case, insert, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.models import Conversation, Message, new_conversation_id, utcnow
from app.streaming import INTERRUPTED, STOPPED

TITLE_CHARS = 60
STREAMING = "streaming"


def storable(text):
    """PostgreSQL text cannot hold NUL; it is shown as U+FFFD anyway (see rendering.escape_text)."""
    return text.replace("\0", "\ufffd")


def title_from(text):
    line = " ".join(text.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "…"


def get_conversation(session, owner_id, conversation_id):
    """The owner's conversation, or None: someone else's is as absent as a missing one."""
    conversation = session.get(Conversation, conversation_id) if conversation_id else None
    if conversation is None or conversation.owner_id != owner_id:
        return None
    return conversation


def list_conversations(session, owner_id, limit=100):
    query = (
        select(Conversation)
        .where(Conversation.owner_id == owner_id)
        .order_by(Conversation.updated_at.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def start_conversation(owner_id, first_message):
    """A new conversation, saved by `add_exchange` with its first exchange."""
    now = utcnow()
    return Conversation(
        id=new_conversation_id(), owner_id=owner_id, title=title_from(storable(first_message)),
        created_at=now, updated_at=now,
    )


# Built once: building a statement per call costs as much as running it.
_INSERT_CONVERSATION = insert(Conversation)
_TOUCH_CONVERSATION = (
    update(Conversation).where(Conversation.id == bindparam("conversation_id")).values(updated_at=bindparam("now"))
)
_INSERT_MESSAGES = insert(Message).returning(Message.id, sort_by_parameter_order=True)


def add_exchange(session, conversation, user_text, model_label):
    """Save the user's turn (unless None), an empty answer marked streaming,
    and the conversation if `start_conversation` just made it, in one commit
    with anything else pending in `session`. Returns (question, answer).

    Every message sent pays for this, so it is plain INSERTs: an ORM flush of
    the same rows cost 0.5 ms more CPU. The returned Messages are not in the
    session, and `conversation.messages` is left as it was.
    """
    now = utcnow()
    connection = session.connection()
    if inspect(conversation).transient:
        connection.execute(_INSERT_CONVERSATION, {
            "id": conversation.id, "owner_id": conversation.owner_id, "title": conversation.title,
            "created_at": conversation.created_at, "updated_at": now,
        })
    else:
        connection.execute(_TOUCH_CONVERSATION, {"conversation_id": conversation.id, "now": now})
        set_committed_value(conversation, "updated_at", now)
    common = {"conversation_id": conversation.id, "error": "", "first_piece_seconds": None,
              "pieces_per_second": None, "created_at": now}
    rows = [{**common, "role": "assistant", "content": "", "outcome": STREAMING, "model": model_label}]
    if user_text is not None:
        rows.insert(0, {**common, "role": "user", "content": storable(user_text), "outcome": "complete", "model": ""})
    ids = connection.execute(_INSERT_MESSAGES, rows).scalars().all()
    session.commit()
    messages = [Message(id=message_id, **row) for message_id, row in zip(ids, rows)]
    return (messages[0] if user_text is not None else None), messages[-1]


# The writes every streaming answer makes (checkpoints, its end) are built
# once here and run on a plain connection: an ORM-enabled UPDATE built per
# call cost 7 times the CPU (340 against 46 us), and under load that CPU is
# taken from every other stream in the worker.
_SAVE_PARTIAL = (
    update(Message)
    .where(Message.id == bindparam("answer_id"), Message.outcome == STREAMING)
    .values(content=bindparam("content"))
)
_FINISHED_VALUES = {
    "content": bindparam("content"),
    "error": bindparam("error"),
    "first_piece_seconds": bindparam("first_piece_seconds"),
    "pieces_per_second": bindparam("pieces_per_second"),
}
_SAVE_FINISHED = (
    update(Message)
    .where(Message.id == bindparam("answer_id"))
    .values(outcome=bindparam("outcome"), **_FINISHED_VALUES)
)
# A Stop handled by another process marks the answer first; the stream then
# only sees its client go away, and the answer stays stopped.
_SAVE_INTERRUPTED = (
    update(Message)
    .where(Message.id == bindparam("answer_id"))
    .values(outcome=case((Message.outcome == STOPPED, STOPPED), else_=INTERRUPTED), **_FINISHED_VALUES)
)


def save_partial(connection, answer_id, text):
    """A checkpoint of an answer still streaming: a killed worker loses at most
    the text since the last one. `connection`: a Core connection in a transaction."""
    connection.execute(_SAVE_PARTIAL, {"answer_id": answer_id, "content": storable(text)})


def rename_conversation(session, conversation, title):
    conversation.title = title_from(storable(title)) or conversation.title
    session.commit()


def delete_conversation(session, conversation):
    session.delete(conversation)
    session.commit()


def save_answer(connection, answer_id, finished):
    """Save how a streamed answer ended (nothing if the conversation was
    deleted meanwhile). `connection`: a Core connection in a transaction."""
    statement = _SAVE_INTERRUPTED if finished.outcome == INTERRUPTED else _SAVE_FINISHED
    connection.execute(statement, {"answer_id": answer_id, **finished_columns(finished)})


def mark_stopped(session, owner_id, answer_id):
    """Mark the owner's streaming answer stopped; False if it is not theirs."""
    answer = session.get(Message, answer_id)
    if answer is None or answer.role != "assistant" or answer.conversation.owner_id != owner_id:
        return False
    if answer.outcome == STREAMING:
        answer.outcome = STOPPED
        session.commit()
    return True


def last_ids(messages):
    """(id of the last question, id of the last answer) in a transcript."""
    question = next((m.id for m in reversed(messages) if m.role == "user"), None)
    answer = messages[-1].id if messages and messages[-1].role == "assistant" else None
    return question, answer


def drop_last_answer(session, conversation):
    """Remove the last answer to answer its question again; (removed ids, question)."""
    messages = conversation.messages
    removed = []
    if messages and messages[-1].role == "assistant":
        removed.append(messages[-1].id)
        session.delete(messages.pop())
    question = messages[-1] if messages and messages[-1].role == "user" else None
    return removed, question


def drop_last_exchange(session, conversation):
    """Remove the last question and its answer, to send an edited question; removed ids."""
    messages = conversation.messages
    removed = []
    while messages:
        message = messages.pop()
        removed.append(message.id)
        session.delete(message)
        if message.role == "user":
            break
    return removed


def finished_columns(finished):
    """A Message's columns for how a streamed answer ended (a streaming.Finished)."""
    return {
        "content": storable(finished.text),
        "outcome": finished.outcome,
        "error": finished.error,
        "first_piece_seconds": finished.first_piece_seconds,
        "pieces_per_second": finished.pieces_per_second,
    }


def apply_finished(answer, finished):
    """Copy how a streamed answer ended onto its Message in memory."""
    for column, value in finished_columns(finished).items():
        setattr(answer, column, value)


def conversation_turns(conversation):
    """Every (role, text) turn with text, oldest first (bound it with turns.bound_turns)."""
    return [(m.role, m.content) for m in conversation.messages if m.content]
