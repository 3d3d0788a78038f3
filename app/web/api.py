"""The API for programs: plain chunked text, or one JSON reply.

    POST /api/chat/stream  {"message": "...", "history": [...]}  -> text/plain, chunked
    POST /api/chat         same body                              -> {"reply": "..."}

Bodies may also be form-encoded (`message=...&history=<JSON list>`).

Instead of `history`, a program may keep a stored conversation: send
`"conversation_id": "new"` to start one, then the id returned in the
`X-Conversation-Id` header (and in the JSON reply) to continue it. A
conversation belongs to the caller's session cookie, exactly as on the page:
keep the cookie (`curl -c jar -b jar`) or get 404. With CHAT_API_KEYS set,
every call needs `Authorization: Bearer <key>` and conversations belong to
the key instead.

The text stream carries the model's text and nothing else, so it has no
heartbeat (any byte would corrupt the text). If the model fails, the stream
ends with a line `ERROR_MARKER + message`, after a newline.
"""

import functools

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context

from app.answers.exchanges import ConversationNotFound, begin_exchange, stream_exchange
from app.answers.model_history import bound_turns, to_chat_messages
from app.answers.reply_pipeline import COMPLETE, Finished, Piece, UpstreamLimits, stream_reply
from app.web.headers import STREAM_HEADERS
from app.web.identity import current_owner, key_digest, use_api_key_owner
from app.web.message_input import BadInput, check_message, parse_history
from app.web.rate_limits import RateLimited, release_when_done

bp = Blueprint("api", __name__, url_prefix="/api")

ERROR_MARKER = "\n[chat error] "


@functools.lru_cache(maxsize=4)
def _key_digests(keys):
    return frozenset(key_digest(key) for key in keys)


@bp.before_request
def require_api_key():
    """With CHAT_API_KEYS set, every API call needs `Authorization: Bearer <key>`."""
    keys = current_app.config["CHAT"].api_keys
    if not keys:
        return None
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    # One set lookup however many keys there are. Comparing digests, not
    # keys, means the lookup's timing can tell nothing about a real key.
    digest = key_digest(sent)
    if digest not in _key_digests(keys):
        return jsonify(error="A valid API key is required: send Authorization: Bearer <key>."), 401
    use_api_key_owner(digest)
    return None


def request_body():
    if not request.is_json:
        return request.form
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput(400, 'The body must be a JSON object like {"message": "..."}.')
    return body


def start_reply():
    """(reply events, conversation id or None) for this request, or BadInput / RateLimited."""
    config = current_app.config["CHAT"]
    body = request_body()
    text = check_message(body.get("message"), config.max_message_chars)
    conversation_id = body.get("conversation_id")
    if conversation_id and body.get("history"):
        raise BadInput(400, "Send either history or conversation_id, not both.")
    # A client is its API key's owner, or with no keys its address.
    release = current_app.extensions["limiter"].admit(g.get("owner") or f"addr:{request.remote_addr}")
    try:
        if conversation_id:
            exchange = begin_exchange(current_owner(), "" if conversation_id == "new" else str(conversation_id), text)
            return release_when_done(stream_exchange(exchange), release), exchange.conversation.id
        turns = parse_history(body.get("history")) + [("user", text)]
    except BaseException:
        release()
        raise
    messages = to_chat_messages(bound_turns(turns, config.history_max_turns, config.history_max_chars))
    events = stream_reply(
        current_app.extensions["chat_model"], messages, config.heartbeat_seconds,
        limits=UpstreamLimits.from_config(config),
    )
    return release_when_done(events, release), None


@bp.errorhandler(BadInput)
def bad_input(error):
    return jsonify(error=error.message), error.status


@bp.errorhandler(RateLimited)
def rate_limited(error):
    return jsonify(error=error.message), error.status, {"Retry-After": str(error.retry_after)}


@bp.errorhandler(404)
@bp.errorhandler(ConversationNotFound)
def not_found(_error):
    return jsonify(error="No such conversation."), 404


def text_chunks(events):
    for event in events:
        if isinstance(event, Piece):
            yield event.text
        elif isinstance(event, Finished) and event.outcome != COMPLETE:
            yield f"{ERROR_MARKER}{event.error}\n"


def conversation_header(conversation_id):
    return {"X-Conversation-Id": conversation_id} if conversation_id else {}


@bp.post("/chat/stream")
def chat_stream():
    events, conversation_id = start_reply()
    return Response(
        stream_with_context(text_chunks(events)),
        content_type="text/plain; charset=utf-8",
        headers={**STREAM_HEADERS, **conversation_header(conversation_id)},
    )


@bp.post("/chat")
def chat():
    events, conversation_id = start_reply()
    finished = next(e for e in events if isinstance(e, Finished))
    extra = {"conversation_id": conversation_id} if conversation_id else {}
    if finished.outcome != COMPLETE:
        return jsonify(error=finished.error, partial=finished.text, **extra), 502
    return jsonify(reply=finished.text, **extra), 200, conversation_header(conversation_id)
