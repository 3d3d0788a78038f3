"""One question and its answer inside a stored conversation.

Shared by the page and the API: find or start the owner's conversation and
save the question with an answer marked streaming. The answer is generated
by a task of its own (app/answers/generation.py), not by the request that
asked: leaving, reloading or a second tab do not change it.
"""

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.operations.request_ids import current_request_id
from app.storage import queries
from app.storage.engine import session_for
from app.storage.models import Conversation, Message

NEW_ANSWER, REDO_ANSWER, REDO_EXCHANGE = "new", "redo-answer", "redo-exchange"


class ConversationNotFound(LookupError):
    """No such conversation, or not the caller's: the two look the same (404)."""


class NothingToRedo(ValueError):
    """Regenerate asked for in a conversation with no question to answer again."""


class AlreadySent(Exception):
    """This composed message (its send key) was saved already: a double
    click, or Enter pressed twice. Nothing new was saved."""

    def __init__(self, conversation_id):
        super().__init__(conversation_id)
        self.conversation_id = conversation_id


@dataclass(frozen=True)
class AnswerChoices:
    """What the person chose for this answer besides its text. `model`: one of
    CHAT_MODELS (None: the conversation's; a new message's choice becomes the
    conversation's, a Regenerate's is for that answer only); `search`: ground
    it in Google Search (CHAT_SEARCH decides whether it may); `instructions`:
    a new conversation's (None: CHAT_SYSTEM_PROMPT)."""

    model: str | None = None
    search: bool = False
    instructions: str | None = None


def search_allowed(config, asked):
    """Whether an answer searches: CHAT_SEARCH=always always, off never."""
    return config.search == "always" or (config.search == "optional" and bool(asked))


@dataclass
class Exchange:
    conversation: Conversation
    question: Message | None  # None when the last question is answered again
    answer: Message
    is_new: bool
    removed_ids: list = field(default_factory=list)  # bubbles the page should drop


def begin_exchange(owner, conversation_id, text, mode=NEW_ANSWER, send_key=None, choices=AnswerChoices()):
    """Save an exchange in `owner`'s conversation `conversation_id`
    (ConversationNotFound if it is not theirs), or in a new one if it is empty.

    REDO_ANSWER answers the last question again (text is None; NothingToRedo
    if there is none; it searches if its question did); REDO_EXCHANGE
    replaces the last question and its answer with `text` (searching if
    asked, or if the question it replaces did). See AnswerChoices. The answer is saved streaming and unclaimed: the
    caller has it generated (app/answers/generation.py). A `send_key` that
    was saved before raises AlreadySent.
    """
    # The hot writes run on the driver's cursor (app/storage/driver_sql.py),
    # so the driver's own IntegrityError comes as well as SQLAlchemy's.
    duplicate = (IntegrityError, current_app.extensions["db_engine"].dialect.dbapi.IntegrityError)
    try:
        return _save_exchange(owner, conversation_id, text, mode, send_key, choices)
    except duplicate:
        if send_key is None:
            raise
        # Both copies raced to the unique index; the first one won.
        with session_for(current_app) as db:
            raise AlreadySent(queries.conversation_of_send_key(db, owner, send_key)) from None


def _save_exchange(owner, conversation_id, text, mode, send_key, choices):
    config = current_app.config["CHAT"]
    models = current_app.extensions["models"]
    search = search_allowed(config, choices.search)
    if not conversation_id:
        instructions = config.system_prompt if choices.instructions is None else choices.instructions
        conversation = queries.start_conversation(owner, text, models.choose(choices.model), instructions)
        # A first message loads nothing, so it needs no ORM session: a plain
        # transaction costs about 40 us less, and every new chat pays for it.
        with current_app.extensions["db_engine"].begin() as connection:
            question, answer = queries.add_exchange(connection, conversation, text, models.label(conversation.model),
                                                    current_request_id(), send_key, search)
        return Exchange(conversation, question, answer, is_new=True)
    with session_for(current_app) as db:
        conversation = queries.get_conversation(db, owner, conversation_id)
        if conversation is None:
            raise ConversationNotFound(conversation_id)
        removed = []
        model = conversation.model
        if mode == REDO_ANSWER:
            removed, question = queries.drop_last_answer(db, conversation)
            if question is None:
                raise NothingToRedo("There is no question to answer again.")
            search = search_allowed(config, question.search)
            model = choices.model or model
        else:
            if mode == REDO_EXCHANGE:
                replaced = queries.last_question(conversation)
                search = search or search_allowed(config, replaced is not None and replaced.search)
                removed = queries.drop_last_exchange(db, conversation)
            if choices.model and models.known(choices.model):
                model = conversation.model = choices.model
        if choices.instructions is not None:
            conversation.instructions = queries.storable(choices.instructions) or None
        # The removals and the new rows commit together.
        question, answer = queries.add_exchange(db.connection(), conversation, text, models.label(model),
                                                current_request_id(), send_key, search)
        db.commit()
        return Exchange(conversation, question, answer, is_new=False, removed_ids=removed)
