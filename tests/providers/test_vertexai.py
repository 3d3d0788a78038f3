"""The real ChatVertexAI code path, over gRPC and REST, against a local stand-in.

No network: ChatVertexAI(base_url=...) talks to tests/providers/vertex_standin.py,
which plays Vertex AI's v1beta1 StreamGenerateContent on both transports
(tests/providers/conftest.py runs each test on each).
The app's retries are off (upstream_retries=0) but where a test turns them on,
so a fault is seen on the first try.
"""

import html
import re
from urllib.parse import unquote

import pytest

from app.answers.outcomes import public_error_message
from app.web.api import ERROR_MARKER
from tests.page_flow import final_html, post_and_subscribe
from tests.providers.vertex_standin import Script
from tests.sse_client import decode_events, heartbeats, is_whole_pieces_joined

pytestmark = pytest.mark.filterwarnings(
    # ChatVertexAI is deprecated in langchain-google-vertexai 3.2 (see app/providers/vertexai.py).
    "ignore::DeprecationWarning:app.providers.vertexai"
)

RATE_LIMITED = "The model is busy right now (rate limited). Please try again in a moment."
CONNECTION_LOST = "The connection to the model was lost. Please try again."
FAILED = "The model failed to answer. Please try again."
SERVER_FAILED = "The model failed to answer (a server error on its side). Please try again."
UNAVAILABLE = "The model service is unavailable right now. Please try again in a moment."
PUBLIC_MESSAGES = (RATE_LIMITED, CONNECTION_LOST, FAILED, SERVER_FAILED, UNAVAILABLE, "The model took too long to answer. Please try again.")


def post_message(client, message, **form):
    return post_and_subscribe(client, message, **form)


def post_text(client, message):
    return client.post("/api/chat/stream", json={"message": message}, buffered=False)


def chunks_of(response):
    return [chunk.decode() for chunk in response.response]


def piece_text(event):
    """The unescaped text of a piece event (an `<hx-partial>` appended to the answer), or None."""
    match = re.fullmatch(r'<hx-partial hx-target="#m-\d+-text" hx-swap="beforeend">(.*)</hx-partial>', event["data"], re.S)
    return html.unescape(match.group(1)) if match else None


def piece_texts(chunks):
    return [text for event in decode_events("".join(chunks)) if (text := piece_text(event)) is not None]


def conversation_id_of(response):
    return re.search(r'<input type="hidden" id="conversation-id" name="conversation_id" value="([^"]+)"', response.html).group(1)


def assert_nothing_leaks(text, standin):
    """The client sees a public message only: no traceback, URL, credential or exception text."""
    for secret in ("Traceback", standin.base_url, "streamGenerateContent", "Authorization", "Bearer",
                   "RESOURCE_EXHAUSTED", "Resource exhausted", "google.api_core", "requests.exceptions",
                   "ChunkedEncodingError", "ProtocolError", "TooManyRequests"):
        assert secret not in text, f"{secret!r} leaked to the client"


# --- the happy path ---------------------------------------------------------


PIECES = ["Base", "ball <is> ", "a bat & ball ", "game."]


def test_page_streams_the_standins_pieces_in_order(client, standin):
    standin.respond(pieces=PIECES, delay=0.02)
    response = post_message(client, "What is baseball?")
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    chunks = chunks_of(response)

    # The pieces in the order served, each in its own event unless the
    # server was busy when they came (then those that waited leave as one).
    per_chunk = ["".join(piece_texts([chunk])) for chunk in chunks]
    assert is_whole_pieces_joined([text for text in per_chunk if text], PIECES)
    # The model's text is escaped on the way into the page.
    assert "&lt;is&gt;" in "".join(chunks) and "<is>" not in "".join(chunks)

    final = final_html("".join(chunks))
    assert 'hx-swap="outerHTML"' in final and "outcome-complete" in final
    assert "Gemini · gemini-2.5-flash" in final

    [request] = standin.requests
    model = "projects/test-project/locations/us-central1/publishers/google/models/gemini-2.5-flash"
    if standin.transport == "rest":
        assert request.path == f"/v1beta1/{model}:streamGenerateContent"
        assert request.query == {"$alt": ["json;enum-encoding=int"]}
    else:
        assert request.path == "/google.cloud.aiplatform.v1beta1.PredictionService/StreamGenerateContent"
        assert unquote(request.headers["x-goog-request-params"]) == f"model={model}"  # Vertex routes on it
    assert request.model == "gemini-2.5-flash"
    assert request.texts == [("user", "What is baseball?")]


def test_text_api_streams_the_standins_pieces_in_order(client, standin):
    standin.respond(pieces=PIECES, delay=0.02)
    response = post_text(client, "What is baseball?")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert is_whole_pieces_joined(chunks_of(response), PIECES)
    assert standin.requests[0].texts == [("user", "What is baseball?")]


@pytest.mark.parametrize("standin", ["rest"], indirect=True)  # gRPC multiplexes calls on one channel anyway
def test_answers_one_after_another_reuse_one_connection_to_vertex(client, standin):
    """Each answer reads Gemini's body to its end, so its connection goes back
    to the pool: a new TCP (and, to Google, TLS) connection per answer was a
    large share of an answer's CPU."""
    standin.respond(pieces=PIECES)
    for question in ("One?", "Two?", "Three?"):
        assert is_whole_pieces_joined(chunks_of(post_text(client, question)), PIECES)
    assert len({request.peer for request in standin.requests}) == 1


def test_a_follow_up_sends_the_earlier_turns_to_vertex(client, standin):
    standin.respond(
        Script(pieces=["Baseball is ", "a bat-and-ball game."]),
        Script(pieces=["Nobody knows ", "for sure."]),
    )
    first = post_message(client, "What is baseball?")
    chunks_of(first)
    conversation_id = conversation_id_of(first)
    second = chunks_of(post_message(client, "Who invented it?", conversation_id=conversation_id))
    assert "".join(piece_texts(second)) == "Nobody knows for sure."

    assert len(standin.requests) == 2
    assert standin.requests[-1].texts == [
        ("user", "What is baseball?"),
        ("model", "Baseball is a bat-and-ball game."),
        ("user", "Who invented it?"),
    ]


# --- faults before the first piece -------------------------------------------


def test_a_429_on_the_page_ends_in_the_rate_limited_notice(client, standin, caplog):
    standin.respond(status=429)
    chunks = chunks_of(post_message(client, "hello"))
    assert piece_texts(chunks) == []
    final = final_html("".join(chunks))
    assert "outcome-error" in final
    assert f'<p class="notice error">{html.escape(RATE_LIMITED)}' in final
    assert_nothing_leaks("".join(chunks), standin)
    assert len(standin.requests) == 1, "no retry when retries are off"
    exception = {"rest": "TooManyRequests", "grpc": "ResourceExhausted"}[standin.transport]
    assert exception in caplog.text, "the server log has the details"


def test_a_429_on_the_text_api_ends_with_the_error_marker(client, standin):
    standin.respond(status=429)
    body = "".join(chunks_of(post_text(client, "hello")))
    assert body == f"{ERROR_MARKER}{RATE_LIMITED}\n"
    assert len(standin.requests) == 1


@pytest.mark.parametrize("status", [500, 503])
def test_a_server_error_before_the_stream_ends_in_a_clear_error(client, standin, status):
    standin.respond(status=status)
    chunks = chunks_of(post_message(client, "hello"))
    final = final_html("".join(chunks))
    assert "outcome-error" in final
    assert any(f'<p class="notice error">{html.escape(m)}' in final for m in PUBLIC_MESSAGES)
    assert_nothing_leaks("".join(chunks), standin)

    body = "".join(chunks_of(post_text(client, "hello")))
    assert body.startswith(ERROR_MARKER) and body.removeprefix(ERROR_MARKER).rstrip("\n") in PUBLIC_MESSAGES


# --- faults mid-stream --------------------------------------------------------


def test_a_cut_connection_on_the_page_keeps_the_partial_and_says_so(client, standin):
    standin.respond(pieces=["first ", "second ", "never"], cut_after=2)
    chunks = chunks_of(post_message(client, "hello"))
    assert "".join(piece_texts(chunks)) == "first second "
    final = final_html("".join(chunks))
    assert "outcome-error" in final
    assert "first second" in final and "never" not in final
    assert f'<p class="notice error">{html.escape(CONNECTION_LOST)}' in final
    assert_nothing_leaks("".join(chunks), standin)


def test_a_cut_connection_on_the_text_api_ends_with_the_error_marker(client, standin):
    standin.respond(pieces=["first ", "second ", "never"], cut_after=2)
    chunks = chunks_of(post_text(client, "hello"))
    assert "".join(chunks) == f"first second {ERROR_MARKER}{CONNECTION_LOST}\n"


@pytest.mark.parametrize("standin", ["rest"], indirect=True)  # gRPC frames cannot be half-JSON
def test_malformed_data_mid_stream_keeps_the_partial_and_ends_in_a_generic_error(client, standin, caplog):
    standin.respond(pieces=["first ", "second "], malformed_after=1)
    chunks = chunks_of(post_message(client, "hello"))
    assert piece_texts(chunks) == ["first "]
    final = final_html("".join(chunks))
    assert "outcome-error" in final and "first" in final
    assert f'<p class="notice error">{html.escape(FAILED)}' in final
    assert_nothing_leaks("".join(chunks), standin)
    assert "an element that is not JSON" in caplog.text


def test_a_stall_mid_stream_sends_heartbeats_and_then_the_rest(vertex_app, standin):
    client = vertex_app(heartbeat_seconds=0.1).test_client()
    standin.respond(pieces=["before ", "after"], stall_after=1, stall_seconds=0.5)
    chunks = chunks_of(post_message(client, "hello"))
    body = "".join(chunks)
    assert piece_texts(chunks) == ["before ", "after"]
    # the pings come between the two pieces, while the stand-in is silent
    between = body[body.index("before ") : body.index(">after<")]
    assert len(heartbeats(between)) >= 1
    assert "outcome-complete" in final_html(body)


def test_the_public_messages_match_the_rest_transport_exceptions():
    """The exception types the REST transport raises, mapped without their text."""
    import requests
    from google.api_core import exceptions
    from urllib3.exceptions import ProtocolError

    assert public_error_message(exceptions.TooManyRequests("secret 429 text")) == RATE_LIMITED
    assert public_error_message(exceptions.ResourceExhausted("secret")) == RATE_LIMITED
    cut = requests.exceptions.ChunkedEncodingError(ProtocolError("Response ended prematurely"))
    assert public_error_message(cut) == CONNECTION_LOST
    assert public_error_message(exceptions.InternalServerError("secret")) == SERVER_FAILED
    assert public_error_message(exceptions.ServiceUnavailable("secret")) == UNAVAILABLE
