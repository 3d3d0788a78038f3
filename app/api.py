"""The API for programs: plain chunked text, or one JSON reply.

    POST /api/chat/stream  {"message": "...", "history": [...]}  -> text/plain, chunked
    POST /api/chat         same body                              -> {"reply": "..."}

Bodies may also be form-encoded (`message=...&history=<JSON list>`).

The text stream carries the model's text and nothing else, so it has no
heartbeat (any byte would corrupt the text). If the model fails, the stream
ends with a line `ERROR_MARKER + message`, after a newline.
"""

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from app.streaming import COMPLETE, Finished, Piece, stream_reply
from app.turns import BadInput, bound_turns, check_message, parse_history, to_chat_messages

bp = Blueprint("api", __name__, url_prefix="/api")

ERROR_MARKER = "\n[chat error] "
TEXT_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def read_request():
    """The model's input from a JSON or form body, or BadInput."""
    config = current_app.config["CHAT"]
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadInput(400, 'The body must be a JSON object like {"message": "..."}.')
    else:
        body = request.form
    text = check_message(body.get("message"), config.max_message_chars)
    turns = parse_history(body.get("history")) + [("user", text)]
    return to_chat_messages(bound_turns(turns, config.history_max_turns, config.history_max_chars))


@bp.errorhandler(BadInput)
def bad_input(error):
    return jsonify(error=error.message), error.status


def reply_events(messages):
    config = current_app.config["CHAT"]
    return stream_reply(current_app.extensions["chat_model"], messages, config.heartbeat_seconds)


def text_chunks(events):
    for event in events:
        if isinstance(event, Piece):
            yield event.text
        elif isinstance(event, Finished) and event.outcome != COMPLETE:
            yield f"{ERROR_MARKER}{event.error}\n"


@bp.post("/chat/stream")
def chat_stream():
    events = reply_events(read_request())
    return Response(
        stream_with_context(text_chunks(events)),
        content_type="text/plain; charset=utf-8",
        headers=TEXT_HEADERS,
    )


@bp.post("/chat")
def chat():
    finished = next(e for e in reply_events(read_request()) if isinstance(e, Finished))
    if finished.outcome != COMPLETE:
        return jsonify(error=finished.error, partial=finished.text), 502
    return jsonify(reply=finished.text)
