"""One question and its answer inside a stored conversation.

Shared by the page and the API: find or start the owner's conversation, save
the question and an answer marked streaming, give the model the bounded
history, and save the answer as it grows and when it ends. Everything the
stream generator needs is loaded here, before the view returns; saving later
opens its own sessions.
"""

from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import current_app

from app.answers.model_history import bound_turns, to_chat_messages
from app.answers.models_first import let_waiting_requests_start
from app.answers.reply_pipeline import UpstreamLimits, start_reading, stream_reply, with_checkpoints
from app.storage import queries
from app.storage.engine import session_for
from app.storage.models import Conversation, Message

NEW_ANSWER, REDO_ANSWER, REDO_EXCHANGE = "new", "redo-answer", "redo-exchange"


class ConversationNotFound(LookupError):
    """No such conversation, or not the caller's: the two look the same (404)."""


class NothingToRedo(ValueError):
    """Regenerate asked for in a conversation with no question to answer again."""


@dataclass
class Exchange:
    conversation: Conversation
    question: Message | None  # None when the last question is answered again
    answer: Message
    is_new: bool
    model_messages: list
    reading: object  # the model's answer, already started (reply_pipeline.start_reading)
    removed_ids: list = field(default_factory=list)  # bubbles the page should drop


def begin_exchange(owner, conversation_id, text, mode=NEW_ANSWER):
    """Start an exchange in `owner`'s conversation `conversation_id`
    (ConversationNotFound if it is not theirs), or in a new one if it is empty.

    REDO_ANSWER answers the last question again (text is None; NothingToRedo
    if there is none); REDO_EXCHANGE replaces the last question and its
    answer with `text`.

    The model is asked as soon as the history is known, before the exchange
    is saved, so that saving and the page's first render happen during its
    time to first piece. In a burst, the requests waiting behind this one
    ask theirs before it saves (app/answers/models_first.py); no database
    connection is held meanwhile, except by a redo, whose removals are
    committed with the new rows.
    """
    if not conversation_id:
        conversation = queries.start_conversation(owner, text)
        model_messages, reading = _start_model([], text)
        # A first message loads nothing, so it needs no ORM session: a plain
        # transaction costs about 40 us less, and every new chat pays for it.
        with _stopped_if_this_fails(reading), current_app.extensions["db_engine"].connect() as connection:
            connection.begin()
            return _save(connection, connection.commit, conversation, text, model_messages, reading, is_new=True)
    with session_for(current_app) as db:
        conversation = queries.get_conversation(db, owner, conversation_id)
        if conversation is None:
            raise ConversationNotFound(conversation_id)
        removed = []
        if mode == REDO_ANSWER:
            removed, question = queries.drop_last_answer(db, conversation)
            if question is None:
                raise NothingToRedo("There is no question to answer again.")
        elif mode == REDO_EXCHANGE:
            removed = queries.drop_last_exchange(db, conversation)
        history = queries.conversation_turns(conversation)
        if not removed:
            db.commit()  # ends the read: its connection goes back to the pool during the wait
        model_messages, reading = _start_model(history, text, wait=not removed)
        with _stopped_if_this_fails(reading):
            return _save(db.connection(), db.commit, conversation, text, model_messages, reading, removed)


def _start_model(history, text, wait=True):
    """Ask the model for its answer to `history` and `text`, then (`wait`)
    let the requests waiting in this worker ask theirs. (model messages, reading)."""
    config = current_app.config["CHAT"]
    if text is not None:
        history = [*history, ("user", queries.storable(text))]
    model_messages = to_chat_messages(bound_turns(history, config.history_max_turns, config.history_max_chars))
    reading = start_reading(current_app.extensions["chat_model"], model_messages)
    if wait:
        with _stopped_if_this_fails(reading):  # a worker that stops kills the greenlet here
            let_waiting_requests_start(config.burst_yield_seconds, reading.answered)
    return model_messages, reading


def _save(connection, commit, conversation, text, model_messages, reading, removed=(), is_new=False):
    """Save the exchange on `connection`, `commit()`, and return it."""
    question, answer = queries.add_exchange(connection, conversation, text, current_app.config["MODEL_LABEL"])
    commit()
    return Exchange(conversation, question, answer, is_new, model_messages, reading, list(removed))


@contextmanager
def _stopped_if_this_fails(reading):
    """The model has been asked: if saving the exchange fails, stop it."""
    try:
        yield
    except BaseException:
        reading.stop()
        raise


def stream_exchange(exchange):
    """The reply pipeline's events for `exchange`, saved as they go: a
    checkpoint every few seconds and the outcome at the end."""
    config = current_app.config["CHAT"]
    save_partial, save_finished = _answer_savers(exchange.answer.id)
    events = stream_reply(
        current_app.extensions["chat_model"], exchange.model_messages, config.heartbeat_seconds,
        on_finish=save_finished, stop_key=exchange.answer.id, limits=UpstreamLimits.from_config(config),
        reading=exchange.reading,
    )
    return with_checkpoints(events, save_partial, config.checkpoint_seconds)


def _answer_savers(answer_id):
    engine = current_app.extensions["db_engine"]

    def save_partial(text):
        with engine.begin() as connection:
            queries.save_partial(connection, answer_id, text)

    def save_finished(finished):
        with engine.begin() as connection:
            queries.save_answer(connection, answer_id, finished)

    return save_partial, save_finished
