"""The chat page: transcripts, sending a message, following an answer, stop,
regenerate, edit, rename and delete.

A message POST saves the exchange and returns at once: with htmx (an
`HX-Request` header) the new bubbles, whose answer subscribes to its own GET
event stream; without JavaScript a redirect to the conversation, where an
unfinished answer streams into a frame. Either way the answer is generated
apart from any request (app/answers/generation.py), so reloading, leaving,
a second tab or a dropped connection only change who is watching.
"""

import re
import secrets

from flask import (
    Blueprint, Response, abort, current_app, redirect, render_template, request, session, stream_with_context,
    url_for,
)
from werkzeug.exceptions import NotFound

from app.answers.exchanges import (
    NEW_ANSWER, REDO_ANSWER, REDO_EXCHANGE, AlreadySent, AnswerBeingWritten, AnswerChoices, ConversationNotFound,
    NothingToRedo, begin_exchange,
)
from app.answers.exchanges import OverStorageAllowance
from app.answers.generation import claim_and_generate, continue_answer, generate_unless_claimed
from app.answers.prices import model_name_of
from app.providers import gemini_models
from app.answers.reply_pipeline import request_stop
from app.answers.subscription import follow_answer
from app.auth.csrf import CsrfFailure, check_csrf
from app.refusals import http_error, refused
from app.rendering.page_events import subscriber_events
from app.rendering.progressive import progressive_document
from app.storage import queries
from app.storage.engine import session_for
from app.web.answer_slots import admit_answer
from app.web.attachment_input import form_uploads
from app.web.costs import answer_cost, conversation_cost
from app.web.event_stream_limits import TooManyReaders, take_reader
from app.web.headers import FRAMEABLE_HERE, STREAM_HEADERS
from app.web.identity import ensure_browser_owner
from app.web.message_input import BadInput, check_instructions, check_message, check_model, parse_offset
from app.web.rate_limits import RateLimited, release_when_done

bp = Blueprint("chat", __name__)

# Before the CSRF check, which keeps its token in the same session.
bp.before_request(ensure_browser_owner)


@bp.before_request
def require_csrf_token():
    check_csrf()


@bp.errorhandler(CsrfFailure)
@bp.errorhandler(RateLimited)
def refused_request(error):
    if "owner" not in session:  # refused before it had one: nothing to show
        return refused(error)
    response = refuse(error, request.form.get("conversation_id", ""), request.form.get("message", ""))
    return (*response, getattr(error, "headers", {}))


@bp.errorhandler(ConversationNotFound)
def conversation_not_found(_error):
    return http_error(NotFound())


@bp.errorhandler(OverStorageAllowance)
def over_storage_allowance(error):
    # 413: what they send cannot be stored (4xx: the page shows the sentence;
    # not 429: waiting does not help). The box keeps the draft.
    conversation_id = (request.view_args or {}).get("conversation_id") or request.form.get("conversation_id", "")
    return refuse(BadInput(413, str(error)), conversation_id, request.form.get("message", ""))


@bp.app_context_processor
def model_settings():
    """What the page offers besides the message: the models, Google Search,
    Thinking, and the instructions a new conversation starts with."""
    config = current_app.config["CHAT"]
    return {
        "model_names": current_app.extensions["models"].names, "default_model": config.model,
        "model_label": current_app.extensions["models"].label,
        "model_name_of": model_name_of, "search_mode": config.search, "system_prompt": config.system_prompt,
        # Gemini's models in words, and its Thinking switch (gone where
        # CHAT_THINKING_BUDGET=0 turned thinking off for every answer).
        "picker_label": gemini_models.picker_label, "thinking_switch": config.shows_thinking,
        "thinking_mode": gemini_models.thinking_mode, "thinks_by_default": gemini_models.thinks_by_default,
        "thinking_hint": gemini_models.thinking_hint,
    }


def from_htmx():
    return request.headers.get("HX-Request") == "true"


def owned_conversation(db, conversation_id):
    conversation = queries.get_conversation(db, session["owner"], conversation_id)
    if conversation is None:
        abort(404)
    return conversation


def render_chat(conversation_id=None, error="", draft="", status=200):
    # Here, not at the top: the library's blueprint imports this module.
    from app.web.library.sidebar import sidebar_page

    with session_for(current_app) as db:
        conversation = owned_conversation(db, conversation_id) if conversation_id else None
        messages = list(conversation.messages) if conversation else []
        sidebar = sidebar_page(db, session["owner"])  # the list, under its date headings
    for message in messages:
        # An answer generated in this process is shown as far as it has got,
        # not as far as its last checkpoint.
        live = current_app.extensions["live_answers"].find(message.id) if message.outcome == queries.STREAMING else None
        if live is not None:
            message.content, message.thoughts = live.text, live.thoughts
    last_question_id, last_answer_id = queries.last_ids(messages)
    page = render_template(
        "chat.html", conversation=conversation, messages=messages, sidebar=sidebar, more_after=sidebar.more_after,
        last_question_id=last_question_id, last_answer_id=last_answer_id, error=error, draft=draft, whole_page=True,
        max_message_chars=current_app.config["CHAT"].max_message_chars,
    )
    return page, status


@bp.get("/")
def new_chat():
    return render_chat()


@bp.get("/c/<conversation_id>")
def show_conversation(conversation_id):
    return render_chat(conversation_id)


def choices_from_form(form, new_conversation):
    """The model, search and (for a new conversation) instructions the form
    asks for, or BadInput."""
    model = check_model(form.get("model") or None, current_app.extensions["models"].names)
    instructions = None
    if new_conversation and "instructions" in form:
        instructions = check_instructions(form["instructions"])
    # CHAT_SEARCH has the last word (exchanges.search_allowed).
    return AnswerChoices(model=model, search=form.get("search") in ("1", "on"), instructions=instructions,
                         thinking=thinking_from_form(form))


def thinking_from_form(form):
    """The composer's Thinking switch: its hidden "off" comes with the
    checkbox's "on" when ticked (templates/_composer_options.html); neither
    where the switch is not offered (None: the model's default)."""
    values = form.getlist("thinking")
    if not values:
        return None
    if any(value not in ("on", "off") for value in values):
        raise BadInput(400, "The Thinking switch must be on or off.")
    return "on" in values


def answer(conversation_id, text, mode, send_key=None, choices=AnswerChoices(), uploads=()):
    """Save the exchange and have its answer generated, apart from this request.

    htmx gets the new bubbles, and the answer's bubble subscribes to the
    answer (GET /answers/<id>/events), which starts it in the process that
    serves the subscription. A plain form (no JavaScript) is redirected to the
    conversation, where the answer streams into a frame.
    """
    app = current_app._get_current_object()
    # The answer counts against the limits from now until it ends; a request
    # that saves nothing gives its slot back on the way out.
    with admit_answer(app, session["owner"], request.remote_addr) as slot:
        try:
            exchange = begin_exchange(session["owner"], conversation_id, text, mode, send_key, choices, uploads)
        except AlreadySent as sent:
            return already_sent(sent.conversation_id)
        except AnswerBeingWritten as error:
            # 409: this question's answer is on its way (often this very click's first copy).
            return refuse(BadInput(409, str(error)), conversation_id, text or "")
        except gemini_models.ThinkingRefused as error:
            return refuse(BadInput(400, str(error)), conversation_id, text or "")
        slot.hand_to(exchange.answer.id)
    if not from_htmx():
        claim_and_generate(app, exchange.answer.id)  # nobody else will
        url = url_for("chat.show_conversation", conversation_id=exchange.conversation.id)
        return redirect(f"{url}#m-{exchange.answer.id}", code=303)
    generate_unless_claimed(app, exchange.answer.id)  # if the tab never subscribes
    return render_template("_exchange_start.html", exchange=exchange)


def already_sent(conversation_id):
    """The same composed message again: the first copy is on its way, so
    htmx swaps nothing (204) and a plain form goes to its conversation."""
    if from_htmx():
        return "", 204
    if conversation_id is None:
        return redirect(url_for("chat.new_chat"), code=303)
    return redirect(url_for("chat.show_conversation", conversation_id=conversation_id), code=303)


# The composer's key for one composed message (templates/_send_key.html; each
# send's response swaps in a new one): anything else is ignored, not refused.
SEND_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


def send_key_of(form):
    key = form.get("send_key", "")
    return key if SEND_KEY.fullmatch(key) else None


@bp.app_template_global()
def new_send_key():
    return secrets.token_urlsafe(16)


def resume_offset():
    """Where a subscriber picks up: the last event id it saw (a reconnect),
    else the offset the page was rendered with."""
    return parse_offset(request.headers.get("Last-Event-ID") or request.args.get("offset"))


@bp.errorhandler(BadInput)
def bad_offset(error):
    # The message POSTs answer BadInput next to the box (refuse); this is for
    # the answer's streams, which a person never reads as a page.
    return error.message, error.status


def owned_answer_or_404(answer_id):
    """The conversation id of the caller's answer `answer_id` (404 if it is not theirs)."""
    with current_app.extensions["db_engine"].connect() as connection:
        conversation_id = queries.owned_answer_conversation(connection, session["owner"], answer_id)
    if conversation_id is None:
        abort(404)
    return conversation_id


def finished_answer(app, answer_id):
    """A loader of `answer_id` as it ended, for the stream's last event; one
    with a price also brings its conversation's new total."""
    def load():
        with app.extensions["db_engine"].connect() as connection:
            message = queries.shown_message(connection, answer_id)
        if message is not None and answer_cost(message):
            with session_for(app) as db:
                message.conversation_total = conversation_cost(queries.conversation_answers(db, message.conversation_id))
        return message
    return load


@bp.get("/answers/<row_id:answer_id>/events")
def answer_events(answer_id):
    """The answer as SSE for htmx: replayed from the subscriber's offset, then live."""
    owned_answer_or_404(answer_id)
    release = take_reader(current_app.extensions["limiter"], answer_id, session["owner"], request.remote_addr)
    app = current_app._get_current_object()
    before, events = follow_answer(app, answer_id, resume_offset(), app.config["CHAT"].page_heartbeat_seconds)
    events = subscriber_events(answer_id, before, events, finished_answer(app, answer_id))
    return Response(
        stream_with_context(release_when_done(events, release)),
        mimetype="text/event-stream",
        headers=STREAM_HEADERS,
    )


@bp.get("/answers/<row_id:answer_id>/progressive")
def answer_progressive(answer_id):
    """The answer as a plain HTML document that grows as the answer is written:
    the page shows it in a frame when JavaScript is off."""
    conversation_id = owned_answer_or_404(answer_id)
    try:
        release = take_reader(current_app.extensions["limiter"], answer_id, session["owner"], request.remote_addr)
    except TooManyReaders as error:
        return refused(error)  # the frame shows the app's own page saying so
    app = current_app._get_current_object()
    _before, events = follow_answer(app, answer_id, resume_offset(), app.config["CHAT"].heartbeat_seconds)
    head = render_template("_progressive_head.html")
    conversation_url = url_for("chat.show_conversation", conversation_id=conversation_id)
    body = release_when_done(progressive_document(head, events, conversation_url), release)
    return Response(stream_with_context(body), mimetype="text/html", headers={
        **STREAM_HEADERS, **FRAMEABLE_HERE,
    })


def refuse(error, conversation_id, draft):
    if from_htmx():
        return render_template("_composer_error.html", message=error.message), error.status
    return render_chat(conversation_id, error=error.message, draft=draft, status=error.status)


def answer_typed_message(conversation_id, mode, send_key=None):
    draft = request.form.get("message", "")
    try:
        text = check_message(draft, current_app.config["CHAT"].max_message_chars)
        choices = choices_from_form(request.form, new_conversation=not conversation_id)
        uploads = form_uploads()  # attached files (app/web/attachment_input.py)
    except BadInput as error:
        return refuse(error, conversation_id, draft)
    return answer(conversation_id, text, mode, send_key, choices, uploads)


@bp.post("/messages")
def post_message():
    return answer_typed_message(request.form.get("conversation_id", ""), NEW_ANSWER, send_key_of(request.form))


@bp.post("/c/<conversation_id>/edit")
def edit_last(conversation_id):
    return answer_typed_message(conversation_id, REDO_EXCHANGE)


@bp.post("/c/<conversation_id>/regenerate")
def regenerate(conversation_id):
    try:
        return answer(conversation_id, None, REDO_ANSWER, choices=choices_from_form(request.form, False))
    except BadInput as error:
        return refuse(error, conversation_id, "")
    except NothingToRedo as error:
        return refuse(BadInput(400, str(error)), conversation_id, "")


CANNOT_CONTINUE = ("This answer cannot be continued: only the last answer of a conversation, "
                   "cut off at the length limit, can be.")


@bp.post("/answers/<row_id:answer_id>/continue")
def continue_truncated(answer_id):
    """Continue a truncated answer from where it stopped, into the same answer
    (app/answers/continuation.py). htmx gets the answer's bubble streaming
    again, subscribed from the text it has; a plain form is redirected to
    the conversation, where it streams into a frame."""
    conversation_id = owned_answer_or_404(answer_id)
    app = current_app._get_current_object()
    # A stream slot and the message rate, as Regenerate takes them.
    with admit_answer(app, session["owner"], request.remote_addr) as slot:
        earlier = continue_answer(app, session["owner"], answer_id)
        if earlier is None:
            # 409: continued already (a double click), or no longer the last answer.
            return refuse(BadInput(409, CANNOT_CONTINUE), conversation_id, "")
        slot.hand_to(answer_id)
    if not from_htmx():
        url = url_for("chat.show_conversation", conversation_id=conversation_id)
        return redirect(f"{url}#m-{answer_id}", code=303)
    with app.extensions["db_engine"].connect() as connection:
        message = queries.shown_message(connection, answer_id)
    if message is None:  # its conversation was deleted meanwhile
        abort(404)
    # Streaming, as it was when reopened, even if the model has written more
    # (or finished) meanwhile: its subscription asks for the rest from there.
    message.outcome, message.content, message.thoughts = queries.STREAMING, earlier.text, earlier.thoughts
    return render_template("_continue_start.html", message=message)


@bp.post("/answers/<row_id:answer_id>/stop")
def stop_answer(answer_id):
    with session_for(current_app) as db:
        answer = queries.mark_stopped(db, session["owner"], answer_id)
        if answer is None:
            abort(404)
    # Ends the answer at once if it is generated in this process; elsewhere
    # its generator sees the mark at its next checkpoint. Its stream slot is
    # free now, even if its generator died and will never say so.
    request_stop(answer_id)
    current_app.extensions["limiter"].release_answer(answer_id)
    if not from_htmx():
        url = url_for("chat.show_conversation", conversation_id=answer.conversation_id)
        return redirect(f"{url}#m-{answer_id}", code=303)
    return render_template("_stopped.html")


@bp.post("/c/<conversation_id>/instructions")
def change_instructions(conversation_id):
    """The conversation's instructions for its next answers (not a turn: the
    transcript does not change)."""
    try:
        instructions = check_instructions(request.form.get("instructions", ""))
    except BadInput as error:
        return refuse(error, conversation_id, "")
    with session_for(current_app) as db:
        conversation = owned_conversation(db, conversation_id)
        queries.change_instructions(db, conversation, instructions)
    return redirect(url_for("chat.show_conversation", conversation_id=conversation_id), code=303)


@bp.post("/c/<conversation_id>/rename")
def rename_conversation(conversation_id):
    with session_for(current_app) as db:
        conversation = owned_conversation(db, conversation_id)
        queries.rename_conversation(db, conversation, request.form.get("title", ""))
    return redirect(url_for("chat.show_conversation", conversation_id=conversation_id))


@bp.post("/c/<conversation_id>/delete")
def delete_conversation(conversation_id):
    with session_for(current_app) as db:
        queries.delete_conversation(db, owned_conversation(db, conversation_id))
    return redirect(url_for("chat.new_chat"))
