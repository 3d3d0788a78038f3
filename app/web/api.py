"""The API for programs: plain chunked text, or one JSON reply.

    POST /api/chat/stream  {"message": "...", "history": [...]}  -> text/plain, chunked
    POST /api/chat         same body                              -> {"reply": "...", "outcome": ...}

Bodies may also be form-encoded (`message=...&history=<JSON list>`).

Optional in either: `model` (one of CHAT_MODELS; another is a 400 naming
them), `instructions` (a system prompt; for a stored conversation it
becomes the conversation's), `search` (true: ground the answer in Google
Search, where CHAT_SEARCH allows) and `thinking` (true: ask that the model
think, a 400 where it cannot; false: not to, a 400 for a model that always
thinks; app/providers/gemini_models.py). The text stream carries the answer's text
only; `/api/chat` also answers `thinking` (the thought summaries, or null),
`citations` ([{"uri", "title"}] of a grounded answer), `model`, `cost`
(an estimate in USD, or null; app/answers/prices.py) and `left_out` (null,
or what the model was not sent of the conversation: {"messages", "files",
"note"}, app/providers/left_out.py).

With CHAT_API_KEYS set, every call needs `Authorization: Bearer <key>` (too
many wrong keys from one network and its calls get 429 for a while), and
instead of `history` a program may keep a stored conversation: send
`"conversation_id": "new"` to start one, then the id returned in the
`X-Conversation-Id` header (and in the JSON reply) to continue it. A stored
conversation belongs to the key (404 for any other). The API never reads or
sets the page's cookie.

A stored conversation's answer is generated apart from the request, as on the
page: its id comes in the `X-Answer-Id` header (and `answer_id` in JSON), and
after a dropped connection `GET /api/answers/<id>/stream?offset=N` sends the
text from character N on and follows the rest. An answer to a request that
sends its own history belongs to that response and ends with it.

The text stream carries the model's text and nothing else, so it has no
heartbeat (any byte would corrupt the text). An answer that does not end
complete ends with a marker line after a newline: `[chat truncated] `,
`[chat blocked] ` or `[chat error] ` and a sentence (MARKERS).

`/api/chat` always answers `reply` (the text, partial if it did not
complete), `outcome` (app/answers/outcomes.py), Gemini's `finish_reason` and
`usage` (tokens, or null), and `error` (a sentence) unless complete; its status
says whether there is an answer to use (STATUSES).

A stored conversation's owner whose conversations keep
CHAT_STORAGE_PER_PERSON_MB or more is refused with 413 and a sentence
(`error`) saying to delete old conversations; nothing is saved.
"""

from flask import Blueprint, Response, current_app, g, jsonify, request, stream_with_context

from app.attachments.model_content import content_for
from app.answers.exchanges import (
    AnswerChoices, ConversationNotFound, OverStorageAllowance, begin_exchange, search_allowed, thinking_allowed,
)
from app.answers.generation import answer_thinking_budget, claim_and_generate
from app.answers.model_history import bound_turns, to_chat_messages
from app.answers.outcomes import BLOCKED, COMPLETE, ERROR, INTERRUPTED, STOPPED, TRUNCATED
from app.answers.prices import model_name_of
from app.answers.reply_pipeline import Finished, Piece, UpstreamLimits, stream_reply
from app.answers.request_billing import bill_when_finished
from app.answers.subscription import follow_answer
from app.auth.api_keys import NEEDS_KEYS_WITH_SIGN_IN, WRONG_KEY, ApiKeys, owner_for_key
from app.providers import gemini_models
from app.providers.left_out import LeftOut
from app.storage import queries
from app.storage.engine import session_for
from app.web.answer_slots import admit_answer
from app.web.attachment_input import body_uploads
from app.web.costs import price_table
from app.web.headers import STREAM_HEADERS
from app.web.identity import api_key_owner, use_api_key_owner
from app.web.message_input import (
    BadInput, check_instructions, check_message, check_model, parse_history, parse_json, parse_offset,
)
from app.refusals import refusal_response
from app.web.network_prefix import network_of
from app.web.rate_limits import release_when_done

bp = Blueprint("api", __name__, url_prefix="/api")

ERROR_MARKER = "\n[chat error] "
MARKERS = {TRUNCATED: "\n[chat truncated] ", BLOCKED: "\n[chat blocked] "}  # any other outcome: ERROR_MARKER
# 200: there is an answer (complete, cut at the length limit, or stopped by
# its owner). 422: Gemini refused the content; the same request will be
# refused again. 502: the model failed or the answer was cut off.
STATUSES = {COMPLETE: 200, TRUNCATED: 200, STOPPED: 200, BLOCKED: 422, ERROR: 502, INTERRUPTED: 502}


@bp.record_once
def keep_api_keys(state):
    # Their digests once per app, and what each key has done once (api_keys.py).
    config = state.app.config["CHAT"]
    state.app.extensions["api_keys"] = ApiKeys(config.api_keys, config.secret_key)


@bp.before_request
def require_api_key():
    """With CHAT_API_KEYS set, every API call needs `Authorization: Bearer <key>`."""
    config = current_app.config["CHAT"]
    if not config.api_keys:
        # Where people sign in (CHAT_AUTH), an open API would let anyone past them.
        return None if config.auth == "none" else refusal_response(403, NEEDS_KEYS_WITH_SIGN_IN)
    limiter = current_app.extensions["limiter"]
    limiter.refuse_while_guessing(request.remote_addr)
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    keys = current_app.extensions["api_keys"]
    key = keys.match(sent)
    if key is None:
        limiter.count_failed_auth(request.remote_addr)
        return refusal_response(401, WRONG_KEY)
    with session_for(current_app) as db:
        use_api_key_owner(owner_for_key(db, keys, key))
    return None


def request_body():
    if not request.is_json:
        return request.form
    try:
        # Strict: `as_text=True` would turn bytes that are not UTF-8 into
        # U+FFFD, and store a message the client never sent.
        text = request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(400, "The body is not valid UTF-8.") from None
    try:
        body = parse_json(text, "body")
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise BadInput(400, 'The body must be a JSON object like {"message": "..."}.')
    return body


def conversation_id_of(body):
    conversation_id = body.get("conversation_id")
    if conversation_id is not None and not isinstance(conversation_id, str):
        raise BadInput(400, 'conversation_id must be text: "new" or an id the API returned.')
    return conversation_id


def _flag(body, name):
    value = body.get(name, False)
    if isinstance(value, str):  # a form body
        value = {"": False, "0": False, "false": False, "1": True, "true": True}.get(value.lower(), value)
    if not isinstance(value, bool):
        raise BadInput(400, f"{name} must be true or false.")
    return value


def choices_of(body):
    """The model, instructions and search the body asks for, or BadInput for
    one this server cannot honour."""
    config = current_app.config["CHAT"]
    model = check_model(body.get("model"), current_app.extensions["models"].names)
    instructions = body.get("instructions")
    if instructions is not None:
        instructions = check_instructions(instructions)
    search = _flag(body, "search")
    if search and config.search == "off":
        why = "this server's model cannot search" if config.provider != "vertexai" else "the operator turned it off"
        raise BadInput(400, f"Google Search grounding is not available: {why} (CHAT_SEARCH=off).")
    # Absent: the model's own way; false: no thinking where the model allows
    # it (app/providers/gemini_models.py: a 400 for one that always thinks).
    thinking = _flag(body, "thinking") if body.get("thinking") is not None else None
    if thinking and not config.shows_thinking:
        why = "this server's model does not think" if config.provider != "vertexai" else "CHAT_THINKING_BUDGET=0"
        raise BadInput(400, f"Thinking is not available: {why}.")
    return AnswerChoices(model=model, search=search, instructions=instructions, thinking=thinking)


def rate_limit_key():
    """A client is its API key's owner, or with no keys its network (an IPv6 /64)."""
    return g.get("owner") or f"addr:{network_of(request.remote_addr)}"


def start_reply():
    """(reply events, ids) for this request, or BadInput / RateLimited.

    With a stored conversation the answer is generated apart from this
    request, like the page's, and this response follows it: a client that
    goes away can resume it (GET /api/answers/<id>/stream?offset=N). With its
    own history the answer belongs to this response and ends with it.
    """
    config = current_app.config["CHAT"]
    body = request_body()
    text = check_message(body.get("message"), config.max_message_chars)
    choices = choices_of(body)
    uploads = body_uploads(body)  # attached files (app/web/attachment_input.py)
    conversation_id = conversation_id_of(body)
    if conversation_id and body.get("history"):
        raise BadInput(400, "Send either history or conversation_id, not both.")
    app = current_app._get_current_object()
    if conversation_id:
        # Counted from now until the answer ends, wherever it is generated.
        with admit_answer(app, rate_limit_key(), request.remote_addr) as slot:
            exchange = begin_exchange(api_key_owner(), "" if conversation_id == "new" else conversation_id, text,
                                      choices=choices, uploads=uploads)
            slot.hand_to(exchange.answer.id)
        claim_and_generate(app, exchange.answer.id)
        return stored_answer_events(exchange.answer.id, 0), {
            "conversation_id": exchange.conversation.id, "answer_id": exchange.answer.id,
            "model": exchange.answer.model,
        }
    turns = parse_history(body.get("history")) + [("user", text)]
    models = current_app.extensions["models"]
    thinking = thinking_allowed(config, models.choose(choices.model), choices.thinking)  # ThinkingRefused: a 400
    release = admit_answer(app, rate_limit_key(), request.remote_addr)
    instructions = config.system_prompt if choices.instructions is None else choices.instructions
    sent = bound_turns(turns, config.history_max_turns, config.history_max_chars)
    left_out = LeftOut(messages=len(turns) - len(sent))
    turns = sent
    files = [(upload.name, upload.kind.mime_type, upload.data) for upload in uploads]
    turns[-1] = ("user", content_for(config.provider, text, files))
    messages = to_chat_messages(turns, instructions)
    model_name = models.choose(choices.model)
    model = gemini_models.with_thinking(models.get(model_name), answer_thinking_budget(config, model_name, thinking))
    events = stream_reply(
        model, messages, config.heartbeat_seconds,
        on_finish=bill_when_finished(app, rate_limit_key(), model_name),
        limits=UpstreamLimits.from_config(config), metrics=current_app.extensions["metrics"].for_model(model_name),
        search=search_allowed(config, choices.search), left_out=left_out,
    )
    return release_when_done(events, release), {"model": models.label(choices.model)}


def stored_answer_events(answer_id, offset):
    _before, events = follow_answer(current_app._get_current_object(), answer_id, offset,
                                    current_app.config["CHAT"].heartbeat_seconds)
    return events


@bp.errorhandler(BadInput)
def bad_input(error):
    return refusal_response(error.status, error.message)


@bp.errorhandler(gemini_models.ThinkingRefused)
def thinking_refused(error):
    return refusal_response(400, str(error))


@bp.errorhandler(OverStorageAllowance)
def over_storage_allowance(error):
    # 413, as on the page: nothing more is stored until the owner deletes some.
    return refusal_response(413, str(error))


@bp.errorhandler(404)
@bp.errorhandler(ConversationNotFound)
def not_found(_error):
    return refusal_response(404, "No such conversation or answer.")


def text_chunks(events):
    for event in events:
        if isinstance(event, Piece):
            yield event.text
        elif isinstance(event, Finished) and event.outcome != COMPLETE:
            yield f"{MARKERS.get(event.outcome, ERROR_MARKER)}{event.error or event.outcome.capitalize() + '.'}\n"


def id_headers(ids):
    names = {"conversation_id": "X-Conversation-Id", "answer_id": "X-Answer-Id"}
    return {names[key]: str(value) for key, value in ids.items() if key in names}


def text_response(events, ids):
    return Response(
        stream_with_context(text_chunks(events)),
        content_type="text/plain; charset=utf-8",
        headers={**STREAM_HEADERS, **id_headers(ids)},
    )


@bp.post("/chat/stream")
def chat_stream():
    return text_response(*start_reply())


@bp.get("/answers/<row_id:answer_id>/stream")
def resume_answer(answer_id):
    """A stored conversation's answer from character `offset` on: what a client
    whose connection dropped missed, then the rest as it is generated."""
    offset = parse_offset(request.args.get("offset"))
    with current_app.extensions["db_engine"].connect() as connection:
        if queries.owned_answer_conversation(connection, api_key_owner(), answer_id) is None:
            return not_found(None)
    return text_response(stored_answer_events(answer_id, offset), {"answer_id": answer_id})


@bp.post("/chat")
def chat():
    events, ids = start_reply()
    finished = next(e for e in events if isinstance(e, Finished))
    model_name = model_name_of(ids["model"])
    body = {
        "reply": finished.text,
        "outcome": finished.outcome,
        "finish_reason": finished.finish_reason,
        "usage": finished.usage.as_dict() if finished.usage else None,
        "thinking": finished.thoughts or None,
        "citations": finished.grounding.citations() if finished.grounding else [],
        "left_out": finished.left_out.as_dict() if finished.left_out else None,
        "cost": price_table().estimate(model_name, finished.usage, grounded=bool(finished.grounding)),
        **ids,
        "model": model_name,
    }
    if finished.outcome != COMPLETE:
        body["error"] = finished.error or f"{finished.outcome.capitalize()}."
    return jsonify(body), STATUSES.get(finished.outcome, 502), id_headers(ids)
