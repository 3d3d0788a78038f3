"""The chat page: transcripts, and the message POST that streams its answer back."""

import secrets

from flask import (
    Blueprint, Response, abort, current_app, render_template, request, session, stream_with_context,
)

from app import store
from app.db import session_for
from app.page_events import page_events
from app.streaming import stream_reply
from app.turns import BadInput, bound_turns, check_message, to_chat_messages

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
        conversation = store.get_conversation(db, session["owner"], conversation_id)
        if conversation is None:
            abort(404)
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

    with session_for(current_app) as db:
        conversation_id = request.form.get("conversation_id", "")
        conversation = store.get_conversation(db, session["owner"], conversation_id)
        if conversation_id and conversation is None:
            abort(404)
        is_new = conversation is None
        if is_new:
            conversation = store.start_conversation(db, session["owner"], text)
        question, answer = store.add_exchange(db, conversation, text, current_app.config["MODEL_LABEL"])
        turns = bound_turns(store.conversation_turns(conversation), config.history_max_turns, config.history_max_chars)
        opening_html = render_template(
            "_exchange_start.html", conversation=conversation, question=question, answer=answer, is_new=is_new
        )

    app = current_app._get_current_object()

    def save(finished):
        # The view's session is gone by now (teardown runs before the body
        # streams), so saving opens its own.
        with session_for(app) as db:
            store.save_answer(db, answer.id, finished)

    reply = stream_reply(
        app.extensions["chat_model"], to_chat_messages(turns), config.heartbeat_seconds, on_finish=save
    )
    return Response(
        stream_with_context(page_events(opening_html, answer, reply)),
        mimetype="text/event-stream",
        headers=STREAM_HEADERS,
    )
