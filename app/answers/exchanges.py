"""One question and its answer inside a stored conversation.

Shared by the page and the API: find or start the owner's conversation and
save the question with an answer marked streaming. The answer is generated
by a task of its own (app/answers/generation.py), not by the request that
asked: leaving, reloading or a second tab do not change it.
"""

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy.exc import IntegrityError

from app.answers.generation import reap_if_abandoned
from app.providers import gemini_models
from app.operations.request_ids import current_request_id
from app.storage import attachment_store, queries, storage_use
from app.storage.engine import session_for
from app.storage.models import Conversation, Message

NEW_ANSWER, REDO_ANSWER, REDO_EXCHANGE = "new", "redo-answer", "redo-exchange"


class ConversationNotFound(LookupError):
    """No such conversation, or not the caller's: the two look the same (404)."""


class NothingToRedo(ValueError):
    """Regenerate asked for in a conversation with no question to answer again."""


class AnswerBeingWritten(Exception):
    """Regenerate or Edit while the question's answer is still being written
    (a double click, or the same request sent twice at once): nothing was
    saved, and no second answer is generated. Stop it first."""

    MESSAGE = ("An answer is already being written for this question. "
               "Wait for it to finish, or stop it, then try again.")

    def __init__(self):
        super().__init__(self.MESSAGE)


class OverStorageAllowance(Exception):
    """The owner's conversations already keep CHAT_STORAGE_PER_PERSON_MB or
    more: nothing new is saved until they delete some."""

    def __init__(self, used_bytes, allowed_bytes):
        self.used_bytes, self.allowed_bytes = used_bytes, allowed_bytes
        super().__init__(
            f"Your conversations take {_megabytes(used_bytes)} MB, and this server keeps at most "
            f"{_megabytes(allowed_bytes)} MB for each person: delete some old conversations to send new messages."
        )


def _megabytes(count):
    return f"{count / 1_000_000:,.1f}" if count >= 100_000 else f"{count / 1_000_000:,.3f}"


def check_storage_allowance(config, owner, incoming=0):
    """OverStorageAllowance if `owner` keeps their allowance or more, or would
    with `incoming` bytes more (attached files), as one SUM over an index
    (app/storage/storage_use.py)."""
    allowed = int(config.storage_per_person_mb * 1_000_000)
    if not allowed:
        return
    with current_app.extensions["db_engine"].connect() as connection:
        used = storage_use.used_bytes(connection, owner)
    if used >= allowed or (incoming and used + incoming > allowed):
        raise OverStorageAllowance(used + incoming if used < allowed else used, allowed)


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
    a new conversation's (None: CHAT_SYSTEM_PROMPT); `thinking`: the
    Thinking switch for this answer (None: the model's default; see
    thinking_allowed)."""

    model: str | None = None
    search: bool = False
    instructions: str | None = None
    thinking: bool | None = None


def thinking_allowed(config, model, asked):
    """The Thinking switch kept for an answer of `model`: None where thinking
    is not offered (not Gemini, or CHAT_THINKING_BUDGET=0: the API refuses a
    request to think there), else `asked`; gemini_models.ThinkingRefused for
    "do not think" to a model that always thinks."""
    if asked is None or not config.shows_thinking:
        return None
    gemini_models.thinking_budget_for(model, asked, config.thinking_budget)
    return asked


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


def begin_exchange(owner, conversation_id, text, mode=NEW_ANSWER, send_key=None, choices=AnswerChoices(),
                   uploads=()):
    """Save an exchange in `owner`'s conversation `conversation_id`
    (ConversationNotFound if it is not theirs), or in a new one if it is empty.

    REDO_ANSWER answers the last question again (text is None; NothingToRedo
    if there is none; it searches if its question did); REDO_EXCHANGE
    replaces the last question and its answer with `text` (searching if
    asked, or if the question it replaces did). See AnswerChoices. The answer is saved streaming and unclaimed: the
    caller has it generated (app/answers/generation.py). A `send_key` that
    was saved before raises AlreadySent; an owner over their storage
    allowance (CHAT_STORAGE_PER_PERSON_MB), OverStorageAllowance. `uploads`:
    files attached to the question (app/attachments/uploads.Upload); an
    edited question keeps the files of the one it replaces.
    """
    incoming = sum(attachment_store.stored_size(upload) for upload in uploads)
    check_storage_allowance(current_app.config["CHAT"], owner, incoming)
    # The hot writes run on the driver's cursor (app/storage/driver_sql.py),
    # so the driver's own IntegrityError comes as well as SQLAlchemy's.
    duplicate = (IntegrityError, current_app.extensions["db_engine"].dialect.dbapi.IntegrityError)
    try:
        return _save_exchange(owner, conversation_id, text, mode, send_key, choices, uploads)
    except duplicate:
        if send_key is None:
            raise
        # Both copies raced to the unique index; the first one won.
        with session_for(current_app) as db:
            raise AlreadySent(queries.conversation_of_send_key(db, owner, send_key)) from None


def _save_exchange(owner, conversation_id, text, mode, send_key, choices, uploads=()):
    config = current_app.config["CHAT"]
    models = current_app.extensions["models"]
    search = search_allowed(config, choices.search)
    if not conversation_id:
        instructions = config.system_prompt if choices.instructions is None else choices.instructions
        conversation = queries.start_conversation(owner, text, models.choose(choices.model), instructions)
        thinking = thinking_allowed(config, conversation.model, choices.thinking)
        # A first message loads nothing, so it needs no ORM session: a plain
        # transaction costs about 40 us less, and every new chat pays for it.
        with current_app.extensions["db_engine"].begin() as connection:
            question, answer = queries.add_exchange(connection, conversation, text, models.label(conversation.model),
                                                    current_request_id(), send_key, search, thinking)
            _attach(connection, owner, conversation, question, uploads)
        return Exchange(conversation, question, answer, is_new=True)
    with session_for(current_app) as db:
        conversation = queries.get_conversation(db, owner, conversation_id)
        if conversation is None:
            raise ConversationNotFound(conversation_id)
        removed, carried = [], []
        model = conversation.model
        # Regenerate and Edit keep the question's Thinking switch unless the
        # request says otherwise, as they keep its Google Search.
        asked_thinking = choices.thinking
        if mode in (REDO_ANSWER, REDO_EXCHANGE):
            _refuse_while_being_written(conversation)
        if mode == REDO_ANSWER:
            removed, question = _dropped(queries.drop_last_answer, db, conversation)
            if question is None:
                raise NothingToRedo("There is no question to answer again.")
            search = search_allowed(config, question.search)
            asked_thinking = question.thinking if asked_thinking is None else asked_thinking
            model = choices.model or model
        else:
            if mode == REDO_EXCHANGE:
                replaced = queries.last_question(conversation)
                carried = list(replaced.attachments) if replaced is not None else []
                search = search or search_allowed(config, replaced is not None and replaced.search)
                if asked_thinking is None and replaced is not None:
                    asked_thinking = replaced.thinking
                removed = _dropped(queries.drop_last_exchange, db, conversation)
            if choices.model and models.known(choices.model):
                model = conversation.model = choices.model
        if choices.instructions is not None:
            conversation.instructions = queries.storable(choices.instructions) or None
        # The removals and the new rows commit together.
        if removed:
            storage_use.recount_conversation(db.connection(), conversation.id)
        thinking = thinking_allowed(config, models.choose(model), asked_thinking)
        question, answer = queries.add_exchange(db.connection(), conversation, text, models.label(model),
                                                current_request_id(), send_key, search, thinking)
        _attach(db.connection(), owner, conversation, question, uploads, carried)
        db.commit()
        return Exchange(conversation, question, answer, is_new=False, removed_ids=removed)


def _attach(connection, owner, conversation, question, uploads, carried=()):
    """Link the question's files, and show them on its bubble."""
    if question is not None and (uploads or carried):
        question.attachments = attachment_store.attach(connection, owner, conversation.id, question.id, uploads,
                                                       carried)


def _dropped(drop, db, conversation):
    try:
        return drop(db, conversation)
    except queries.AnswerBeingWritten:
        raise AnswerBeingWritten() from None


def _refuse_while_being_written(conversation):
    """AnswerBeingWritten if the last answer is still streaming, unless its
    generator died (then it is marked interrupted here, and may be redone).
    The removal itself checks again in the database (queries.drop_last_answer):
    this only spares the common case a write."""
    streaming = queries.last_answer_streaming(conversation)
    if streaming is None:
        return
    with session_for(current_app) as db:
        progress = queries.answer_progress(db, streaming.id)
    if progress is None or not reap_if_abandoned(current_app._get_current_object(), streaming.id, progress):
        raise AnswerBeingWritten()
