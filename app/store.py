"""Conversations and messages: saving turns and loading what the model sees."""

from sqlalchemy import select

from app.models import Conversation, Message, utcnow

TITLE_CHARS = 60
STREAMING = "streaming"


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
    conversation = Conversation(owner_id=owner_id, title=title_from(first_message))
    session.add(conversation)
    return conversation


def add_exchange(session, conversation, user_text, model_label):
    """Save the user's turn and an empty answer marked streaming; return both."""
    question = Message(role="user", content=user_text)
    answer = Message(role="assistant", outcome=STREAMING, model=model_label)
    conversation.messages.extend([question, answer])
    conversation.updated_at = utcnow()
    session.commit()
    return question, answer


def save_partial(session, answer_id, text):
    """A checkpoint of an answer still streaming: a killed worker loses at most
    the text since the last one."""
    answer = session.get(Message, answer_id)
    if answer is not None and answer.outcome == STREAMING:
        answer.content = text
        session.commit()


def rename_conversation(session, conversation, title):
    conversation.title = title_from(title) or conversation.title
    session.commit()


def delete_conversation(session, conversation):
    session.delete(conversation)
    session.commit()


def save_answer(session, answer_id, finished):
    answer = session.get(Message, answer_id)
    if answer is None:  # the conversation was deleted meanwhile
        return
    apply_finished(answer, finished)
    session.commit()


def apply_finished(answer, finished):
    """Copy how a streamed answer ended (a streaming.Finished) onto its Message."""
    answer.content = finished.text
    answer.outcome = finished.outcome
    answer.error = finished.error
    answer.first_piece_seconds = finished.first_piece_seconds
    answer.pieces_per_second = finished.pieces_per_second


def conversation_turns(conversation):
    """Every (role, text) turn with text, oldest first (bound it with turns.bound_turns)."""
    return [(m.role, m.content) for m in conversation.messages if m.content]
