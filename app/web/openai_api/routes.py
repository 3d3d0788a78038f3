"""The /v1 blueprint: `GET /v1/models`, `GET /v1/models/<id>` and
`POST /v1/chat/completions`, stateless (the client sends the conversation).

The same API keys (CHAT_API_KEYS, `Authorization: Bearer`), rate limits,
metrics and request ids as the JSON API: its own key check runs here, and
an answer holds a stream slot from its request to its end.

An answer streams (`stream: true`) as `chat.completion.chunk` events, then
`data: [DONE]`, with `: ping` comments while the model is silent. The
response waits for the model's first event before it starts: a model that
fails before saying anything is answered with an HTTP status (429 with
Retry-After, 503, 502) that SDKs retry, not with a stream. One that fails
later ends the stream with `data: {"error": {...}}` and no [DONE], which the
SDKs raise: never a silently short answer. A client that goes away closes
the reply, which stops the model.
"""

import time

from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from app.answers.exchanges import search_allowed
from app.answers.reply_pipeline import Finished, Heartbeat, Piece, UpstreamLimits, stream_reply
from app.answers.request_billing import bill_when_finished
from app.operations.request_ids import current_request_id
from app.providers.request_settings import NotOffered, with_sampling
from app.providers.thought import Thought
from app.refusals import error_object, refusal_response
from app.web import api
from app.web.answer_slots import admit_answer
from app.web.headers import STREAM_HEADERS
from app.web.message_input import BadInput, parse_json
from app.web.openai_api import shapes
from app.web.openai_api.chat_request import read_chat_request, unknown_model
from app.web.openai_api.errors import MODEL_BUSY_RETRY_SECONDS, OpenAIError, openai_error
from app.web.rate_limits import release_when_done

bp = Blueprint("openai_api", __name__, url_prefix="/v1")
# The JSON API's own check: the same keys, owners and limit on wrong keys.
bp.before_request(api.require_api_key)
bp.register_error_handler(OpenAIError, openai_error)

# A model's failure, by outcomes.error_kind, as the status SDKs act on: they
# retry 429 (after Retry-After) and 5xx; Gemini rejecting the request itself
# is the client's to change.
FAILURE_STATUSES = {"rate-limited": 429, "unavailable": 503, "bad-request": 400}


@bp.errorhandler(BadInput)
def bad_input(error):
    return refusal_response(error.status, error.message)


@bp.errorhandler(NotOffered)
def not_offered(error):
    model = current_app.config["CHAT"].provider
    return openai_error(OpenAIError(400, f"`{error.setting}` is not offered by this server's model ({model}): send "
                                         "the request without it.", param=error.setting))


@bp.get("/models")
def list_models():
    return jsonify(shapes.model_list(current_app.extensions["models"], current_app.config["CHAT"].provider))


@bp.get("/models/<path:name>")
def get_model(name):
    models = current_app.extensions["models"]
    if not models.known(name):
        raise unknown_model(name, models)
    return jsonify(shapes.model_object(name, models.label(name), current_app.config["CHAT"].provider))


def json_body():
    if not request.is_json:
        raise OpenAIError(400, "The body must be JSON, sent with Content-Type: application/json.")
    try:
        text = request.get_data().decode("utf-8")
    except UnicodeDecodeError:
        raise OpenAIError(400, "The body is not valid UTF-8.") from None
    try:
        return parse_json(text, "body")
    except ValueError:
        raise OpenAIError(400, "The body is not valid JSON.") from None


@bp.post("/chat/completions")
def chat_completions():
    config = current_app.config["CHAT"]
    models = current_app.extensions["models"]
    asked = read_chat_request(json_body(), config, models)
    name = models.choose(asked.model)
    model = with_sampling(models.get(name), asked.sampling)
    app = current_app._get_current_object()
    release = admit_answer(app, api.rate_limit_key(), request.remote_addr)
    events = release_when_done(stream_reply(
        model, asked.messages, config.heartbeat_seconds, on_finish=bill_when_finished(app, api.rate_limit_key(), name),
        limits=UpstreamLimits.from_config(config),
        metrics=current_app.extensions["metrics"].for_model(name), search=search_allowed(config, asked.search),
    ), release)
    completion = shapes.Completion(f"chatcmpl-{current_request_id()}", int(time.time()), name)
    # The first event decides the status (see the module's docstring).
    first = next(events)
    if isinstance(first, Finished) and first.outcome not in shapes.FINISH_REASONS:
        events.close()
        return failure_response(first)
    if asked.stream:
        return Response(stream_with_context(chunks(completion, first, events, asked.include_usage)),
                        content_type="text/event-stream; charset=utf-8", headers=STREAM_HEADERS)
    try:
        finished = first if isinstance(first, Finished) else next(e for e in events if isinstance(e, Finished))
    finally:
        events.close()
    if finished.outcome not in shapes.FINISH_REASONS:
        return failure_response(finished)
    return jsonify(completion.whole(finished))


def failure(finished):
    """(status, OpenAI's error object) of an answer the model did not finish."""
    status = FAILURE_STATUSES.get(finished.error_kind, 502)
    message = finished.error or "The model's answer did not finish. Please try again."
    code = f"model_{(finished.error_kind or finished.outcome).replace('-', '_')}"
    return status, error_object(status, message, code)


def failure_response(finished):
    status, error = failure(finished)
    headers = {"Retry-After": str(MODEL_BUSY_RETRY_SECONDS)} if status == 429 else {}
    return jsonify(error=error), status, headers


def chunks(completion, first, events, include_usage):
    """The answer's SSE events, `first` (already read) first."""
    try:
        yield completion.first_chunk()
        event = first
        while True:
            if isinstance(event, Piece):
                yield completion.content_chunk(event.text)
            elif isinstance(event, Thought):
                yield completion.reasoning_chunk(event.text)
            elif isinstance(event, Heartbeat):
                yield shapes.PING
            elif isinstance(event, Finished):
                if event.outcome in shapes.FINISH_REASONS:
                    yield completion.last_chunks(event, include_usage)
                else:
                    yield shapes.error_event(failure(event)[1])
                return
            event = next(events)
    finally:
        # However the response ends (a client that went away closes it
        # here), the model stream is closed and the slot freed.
        events.close()
