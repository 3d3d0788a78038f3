"""Conversations and messages: saving turns and loading what the model sees."""

from sqlalchemy import case, select, update

from app.models import Conversation, Message, utcnow
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


def start_conversation(session, owner_id, first_message):
    conversation = Conversation(owner_id=owner_id, title=title_from(storable(first_message)))
    session.add(conversation)
    return conversation


def add_exchange(session, conversation, user_text, model_label):
    """Save the user's turn (unless None) and an empty answer marked streaming."""
    question = Message(role="user", content=storable(user_text)) if user_text is not None else None
    answer = Message(role="assistant", outcome=STREAMING, model=model_label)
    conversation.messages.extend([m for m in (question, answer) if m is not None])
    conversation.updated_at = utcnow()
    session.commit()
    return question, answer


def save_partial(session, answer_id, text):
    """A checkpoint of an answer still streaming: a killed worker loses at most
    the text since the last one. One UPDATE, no load: it runs for every
    streaming answer every few seconds."""
    session.execute(
        update(Message)
        .where(Message.id == answer_id, Message.outcome == STREAMING)
        .values(content=storable(text))
    )
    session.commit()


def rename_conversation(session, conversation, title):
    conversation.title = title_from(storable(title)) or conversation.title
    session.commit()


def delete_conversation(session, conversation):
    session.delete(conversation)
    session.commit()


def save_answer(session, answer_id, finished):
    """Save how a streamed answer ended, in one UPDATE (a no-op if the
    conversation was deleted meanwhile)."""
    outcome = finished.outcome
    if outcome == INTERRUPTED:
        # A Stop handled by another process marks the answer first; the
        # stream then only sees its client go away.
        outcome = case((Message.outcome == STOPPED, STOPPED), else_=INTERRUPTED)
    session.execute(
        update(Message)
        .where(Message.id == answer_id)
        .values({**finished_columns(finished), "outcome": outcome})
    )
    session.commit()


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
