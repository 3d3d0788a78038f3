"""The chat page: transcripts, and the message POST that streams its answer back."""

import secrets

from flask import (
    Blueprint, Response, abort, current_app, redirect, render_template, request, session, stream_with_context,
    url_for,
)

from app import store
from app.db import session_for
from app.exchanges import begin_exchange, stream_exchange
from app.page_events import page_events
from app.turns import BadInput, check_message

bp = Blueprint("chat", __name__)

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@bp.before_app_request
def ensure_owner():
    # Each browser owns its conversations through an anonymous id kept in
    # Flask's signed session cookie.
    if "owner" not in session:
        session["owner"] = secrets.token_urlsafe(18)
        session.permanent = True


def chat_settings():
    return current_app.config["CHAT"]


@bp.get("/")
def new_chat():
    with session_for(current_app) as db:
        conversations = store.list_conversations(db, session["owner"])
    return render_template("chat.html", conversation=None, messages=[], conversations=conversations)


@bp.get("/c/<conversation_id>")
def show_conversation(conversation_id):
    with session_for(current_app) as db:
        conversation = owned_conversation(db, conversation_id)
        messages = list(conversation.messages)
        conversations = store.list_conversations(db, session["owner"])
    return render_template("chat.html", conversation=conversation, messages=messages, conversations=conversations)


@bp.post("/messages")
def post_message():
    config = chat_settings()
    try:
        text = check_message(request.form.get("message"), config.max_message_chars)
    except BadInput as error:
        return render_template("_composer_error.html", message=error.message), error.status

    exchange = begin_exchange(request.form.get("conversation_id", ""), text)
    opening_html = render_template("_exchange_start.html", exchange=exchange)
    return Response(
        stream_with_context(page_events(opening_html, exchange.answer, stream_exchange(exchange))),
        mimetype="text/event-stream",
        headers=STREAM_HEADERS,
    )


def owned_conversation(db, conversation_id):
    conversation = store.get_conversation(db, session["owner"], conversation_id)
    if conversation is None:
        abort(404)
    return conversation


@bp.post("/c/<conversation_id>/rename")
def rename_conversation(conversation_id):
    with session_for(current_app) as db:
        conversation = owned_conversation(db, conversation_id)
        store.rename_conversation(db, conversation, request.form.get("title", ""))
    return redirect(url_for("chat.show_conversation", conversation_id=conversation_id))


@bp.post("/c/<conversation_id>/delete")
def delete_conversation(conversation_id):
    with session_for(current_app) as db:
        store.delete_conversation(db, owned_conversation(db, conversation_id))
    return redirect(url_for("chat.new_chat"))
