"""The chat page: transcripts, the message POST that streams its answer back,
stop, regenerate, edit, rename and delete.

With htmx (an `HX-Request` header) a message POST answers with an event
stream; without JavaScript the same POST waits for the whole answer and
redirects to the transcript, so the plain form works too.
"""

from flask import (
    Blueprint, Response, abort, current_app, redirect, render_template, request, session, stream_with_context,
    url_for,
)
from werkzeug.exceptions import NotFound

from app.answers.exchanges import (
    NEW_ANSWER, REDO_ANSWER, REDO_EXCHANGE, ConversationNotFound, NothingToRedo, begin_exchange, stream_exchange,
)
from app.answers.reply_pipeline import request_stop
from app.rendering.page_events import page_events
from app.storage import queries
from app.storage.engine import session_for
from app.web.csrf import CsrfFailure, check_csrf
from app.web.headers import STREAM_HEADERS
from app.web.identity import ensure_browser_owner
from app.web.message_input import BadInput, check_message
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
    response = refuse(error, request.form.get("conversation_id", ""), request.form.get("message", ""))
    retry_after = getattr(error, "retry_after", None)
    return response if retry_after is None else (*response, {"Retry-After": str(retry_after)})


@bp.errorhandler(ConversationNotFound)
def conversation_not_found(_error):
    return NotFound()


def from_htmx():
    return request.headers.get("HX-Request") == "true"


def owned_conversation(db, conversation_id):
    conversation = queries.get_conversation(db, session["owner"], conversation_id)
    if conversation is None:
        abort(404)
    return conversation


def render_chat(conversation_id=None, error="", draft="", status=200):
    with session_for(current_app) as db:
        conversation = owned_conversation(db, conversation_id) if conversation_id else None
        messages = list(conversation.messages) if conversation else []
        conversations = queries.list_conversations(db, session["owner"])
    last_question_id, last_answer_id = queries.last_ids(messages)
    page = render_template(
        "chat.html", conversation=conversation, messages=messages, conversations=conversations,
        last_question_id=last_question_id, last_answer_id=last_answer_id, error=error, draft=draft,
    )
    return page, status


@bp.get("/")
def new_chat():
    return render_chat()


@bp.get("/c/<conversation_id>")
def show_conversation(conversation_id):
    return render_chat(conversation_id)


def answer(conversation_id, text, mode):
    """Stream the answer to htmx, or (no JavaScript) wait for it and redirect."""
    release = current_app.extensions["limiter"].admit(session["owner"])
    try:
        exchange = begin_exchange(session["owner"], conversation_id, text, mode)
    except BaseException:
        release()
        raise
    events = release_when_done(stream_exchange(exchange), release)
    if not from_htmx():
        for _event in events:
            pass
        return redirect(url_for("chat.show_conversation", conversation_id=exchange.conversation.id))
    opening_html = render_template("_exchange_start.html", exchange=exchange)
    return Response(
        stream_with_context(page_events(opening_html, exchange.answer.id, events, finished_message(exchange.answer))),
        mimetype="text/event-stream",
        headers=STREAM_HEADERS,
    )


def finished_message(answer):
    """For page_events: `answer` as its stream ended, without reading it back."""
    def apply(finished):
        queries.apply_finished(answer, finished)
        return answer
    return apply


def refuse(error, conversation_id, draft):
    if from_htmx():
        return render_template("_composer_error.html", message=error.message), error.status
    return render_chat(conversation_id, error=error.message, draft=draft, status=error.status)


def answer_typed_message(conversation_id, mode):
    draft = request.form.get("message", "")
    try:
        text = check_message(draft, current_app.config["CHAT"].max_message_chars)
    except BadInput as error:
        return refuse(error, conversation_id, draft)
    return answer(conversation_id, text, mode)


@bp.post("/messages")
def post_message():
    return answer_typed_message(request.form.get("conversation_id", ""), NEW_ANSWER)


@bp.post("/c/<conversation_id>/edit")
def edit_last(conversation_id):
    return answer_typed_message(conversation_id, REDO_EXCHANGE)


@bp.post("/c/<conversation_id>/regenerate")
def regenerate(conversation_id):
    try:
        return answer(conversation_id, None, REDO_ANSWER)
    except NothingToRedo as error:
        return refuse(BadInput(400, str(error)), conversation_id, "")


@bp.post("/answers/<int:answer_id>/stop")
def stop_answer(answer_id):
    with session_for(current_app) as db:
        if not queries.mark_stopped(db, session["owner"], answer_id):
            abort(404)
    # Ends the stream at once if it runs in this process; elsewhere it ends
    # when it sees its client (which aborted) go away.
    request_stop(answer_id)
    return render_template("_stopped.html")


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
