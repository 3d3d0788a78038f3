"""The Vertex AI stand-in, checked against the real library on both transports.

These drive ChatVertexAI (and its GAPIC client) directly, not the app: they
show that what the stand-in sends is what the library understands, and how the
library reacts to each scripted fault.
"""

from tests.providers.tls_certificate import session_certificate

# Before any secure gRPC channel exists in this process: gRPC reads its roots once.
session_certificate()

import time  # noqa: E402

import pytest  # noqa: E402
import requests  # noqa: E402
from google.api_core import exceptions  # noqa: E402
from google.auth import exceptions as auth_exceptions  # noqa: E402
from google.auth.credentials import AnonymousCredentials  # noqa: E402
from google.cloud.aiplatform_v1beta1.types import (  # noqa: E402
    Content,
    GenerateContentRequest,
    GenerateContentResponse,
    Part,
)
from langchain_core.messages import HumanMessage  # noqa: E402
from langchain_core.messages.ai import add_usage  # noqa: E402
from langchain_google_vertexai import ChatVertexAI  # noqa: E402

from tests.providers.vertex_standin import GRPC_METHOD_PATH, Script, VertexStandIn  # noqa: E402

pytestmark = [
    # ChatVertexAI is deprecated in langchain-google-vertexai 3.2 (see app/providers/vertexai.py).
    pytest.mark.filterwarnings("ignore:The class `ChatVertexAI` was deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:Use .*ChatGoogleGenerativeAI.* instead:DeprecationWarning"),
]

MODEL = "gemini-2.5-flash"
RESOURCE = f"projects/test-project/locations/us-central1/publishers/google/models/{MODEL}"
PIECES = ["Base", "ball <is> ", "a bat & ball ", "game."]


@pytest.fixture(params=["rest", "grpc"])
def standin(request):
    with VertexStandIn(transport=request.param) as server:
        yield server


@pytest.fixture
def model(standin):
    return ChatVertexAI(
        model=MODEL,
        project="test-project",
        location="us-central1",
        transport=standin.transport,
        base_url=standin.base_url,
        credentials=AnonymousCredentials(),
        max_retries=0,
        streaming=True,
    )


def stream(model):
    """(the chunks ChatVertexAI yielded, the exception that ended them or None)."""
    chunks = []
    try:
        for chunk in model.stream([HumanMessage("hi")]):
            chunks.append(chunk)
    except Exception as error:  # noqa: BLE001 - the tests look at which
        return chunks, error
    return chunks, None


def texts(chunks):
    return [chunk.text for chunk in chunks if chunk.text]


def final_metadata(chunks):
    """The response_metadata of the last chunk from the model. (langchain-core
    then adds an empty chunk of its own, chunk_position="last", without it.)"""
    return [chunk for chunk in chunks if chunk.response_metadata][-1].response_metadata


def raw_stream(model):
    """The GAPIC call under ChatVertexAI: an iterator of GenerateContentResponse
    with `.cancel()` (gRPC: cancels the call; REST: closes the HTTP response)."""
    request = GenerateContentRequest(model=RESOURCE, contents=[Content(role="user", parts=[Part(text="hi")])])
    return model.prediction_client.stream_generate_content(request=request)


# --- answers ---------------------------------------------------------------


def test_pieces_arrive_in_order_and_the_request_is_recorded_alike(model, standin):
    standin.respond(pieces=PIECES, delay=0.01)
    chunks, error = stream(model)
    assert error is None
    assert texts(chunks) == PIECES

    [request] = standin.requests
    assert request.model == MODEL
    # The same camelCase body on both transports, as REST sends it.
    assert request.body == {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {}}
    assert request.texts == [("user", "hi")]
    if standin.transport == "rest":
        assert request.path == f"/v1beta1/{RESOURCE}:streamGenerateContent"
        assert request.query == {"$alt": ["json;enum-encoding=int"]}
    else:
        assert request.path == GRPC_METHOD_PATH
        assert request.headers["x-goog-request-params"] == f"model={RESOURCE}"
    assert request.finished.wait(5) and not request.gone.is_set()
    assert request.pieces_sent == len(PIECES)


def test_thoughts_are_thinking_blocks_and_stay_out_of_the_text(model, standin):
    standin.respond(thoughts=["Let me think.", "Yes."], pieces=["Answer."])
    chunks, error = stream(model)
    assert error is None
    thinking = [block["thinking"] for chunk in chunks if isinstance(chunk.content, list) for block in chunk.content]
    assert thinking == ["Let me think.", "Yes."]
    assert texts(chunks) == ["Answer."]


def test_a_max_tokens_finish_is_reported_on_the_last_chunk(model, standin):
    standin.respond(pieces=["cut sh"], finish_reason="MAX_TOKENS")
    chunks, error = stream(model)
    assert error is None
    metadata = final_metadata(chunks)
    assert metadata["finish_reason"] == "MAX_TOKENS"
    assert metadata["model_name"] == MODEL


def test_a_safety_finish_carries_its_ratings(model, standin):
    standin.respond(
        pieces=["Here is how"],
        finish_reason="SAFETY",
        blocked_category="HARM_CATEGORY_DANGEROUS_CONTENT",
        finish_message="The response was blocked.",
    )
    chunks, error = stream(model)
    assert error is None
    metadata = final_metadata(chunks)
    assert metadata["finish_reason"] == "SAFETY"
    assert metadata["finish_message"] == "The response was blocked."
    ratings = {rating["category"]: rating for rating in metadata["safety_ratings"]}
    assert len(ratings) == 4
    blocked = ratings.pop("HARM_CATEGORY_DANGEROUS_CONTENT")
    assert blocked["blocked"] and blocked["probability_label"] == "HIGH"
    assert all(not r["blocked"] and r["probability_label"] == "NEGLIGIBLE" for r in ratings.values())


def test_usage_adds_up_over_the_chunks(model, standin):
    standin.respond(pieces=["a", "b", "c"], usage=(5, None, 7))
    chunks, error = stream(model)
    assert error is None
    total = None
    for chunk in chunks:
        total = add_usage(total, chunk.usage_metadata)
    assert total["input_tokens"] == 5
    assert total["output_tokens"] == 3  # candidates_token_count defaults to len(pieces)
    assert total["total_tokens"] == 15
    assert total["output_token_details"]["reasoning"] == 7


def test_a_blocked_prompt_is_an_empty_stream_though_feedback_was_sent(model, standin):
    standin.respond(prompt_block="PROHIBITED_CONTENT")
    chunks, error = stream(model)
    assert error is None
    assert texts(chunks) == []  # LangChain never reads prompt_feedback

    [response] = list(raw_stream(model))
    assert not response.candidates
    feedback = response.prompt_feedback
    assert feedback.block_reason == GenerateContentResponse.PromptFeedback.BlockedReason.PROHIBITED_CONTENT
    assert feedback.block_reason_message
    assert response.usage_metadata.prompt_token_count == 5


def test_a_stall_and_a_delay_hold_the_pieces_back(model, standin):
    standin.respond(pieces=["before", "after"], delay=0.05, stall_after=1, stall_seconds=0.5)
    arrivals = []
    for chunk in model.stream([HumanMessage("hi")]):
        if chunk.text:
            arrivals.append((chunk.text, time.monotonic()))
    assert [text for text, _ in arrivals] == ["before", "after"]
    assert arrivals[1][1] - arrivals[0][1] >= 0.5


# --- errors ----------------------------------------------------------------

# Status -> (what REST raises, what gRPC raises), as GEMINI.md lists them.
ERRORS = {
    400: (exceptions.BadRequest, exceptions.InvalidArgument),
    401: (auth_exceptions.InvalidOperation, exceptions.Unauthenticated),
    403: (exceptions.Forbidden, exceptions.PermissionDenied),
    404: (exceptions.NotFound, exceptions.NotFound),
    429: (exceptions.TooManyRequests, exceptions.ResourceExhausted),
    500: (exceptions.InternalServerError, exceptions.InternalServerError),
    503: (exceptions.ServiceUnavailable, exceptions.ServiceUnavailable),
}


@pytest.mark.parametrize("status", sorted(ERRORS))
def test_an_error_status_before_the_stream_raises_the_transports_exception(model, standin, status):
    standin.respond(status=status)
    chunks, error = stream(model)
    assert chunks == []
    rest_error, grpc_error = ERRORS[status]
    assert type(error) is (rest_error if standin.transport == "rest" else grpc_error)
    if isinstance(error, exceptions.GoogleAPICallError):
        assert error.code == status
    else:
        # REST 401: google-auth's AuthorizedSession refreshes the credentials
        # and would resend; anonymous ones cannot refresh.
        assert "Anonymous credentials cannot be refreshed" in str(error)
    assert len(standin.requests) == 1


def test_an_error_after_pieces_ends_rest_quietly_but_raises_on_grpc(model, standin):
    standin.respond(pieces=["first ", "second ", "never"], error_after=2, error_status=503)
    chunks, error = stream(model)
    assert texts(chunks) == ["first ", "second "]
    if standin.transport == "rest":
        # The `{"error": ...}` element parses as an empty response: no exception.
        assert error is None
        assert chunks[2].text == "" and chunks[2].response_metadata == {"model_provider": "google_vertexai"}
    else:
        assert isinstance(error, exceptions.ServiceUnavailable)
        assert error.message == "The service is currently unavailable."


def test_a_cut_connection_raises_after_the_pieces_before_it(model, standin):
    standin.respond(pieces=["first ", "second ", "never"], cut_after=2)
    chunks, error = stream(model)
    assert texts(chunks) == ["first ", "second "]
    if standin.transport == "rest":
        assert isinstance(error, requests.exceptions.ChunkedEncodingError)
    else:
        assert isinstance(error, exceptions.ServiceUnavailable)
        assert error.message == "Stream removed (Socket closed)"


def test_malformed_data_is_for_rest_only(standin):
    if standin.transport == "rest":
        standin.respond(malformed_after=1)
    else:
        with pytest.raises(ValueError, match="REST only"):
            standin.respond(malformed_after=1)


# --- the client going away ---------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        Script(pieces=["x"] * 200, delay=0.05),  # seen while waiting between pieces
        Script(pieces=["x"] * 10, stall_after=2, stall_seconds=60),  # seen during a long silence
        Script(pieces=["x" * 8000] * 4000),  # no waits: seen when sending blocks or fails
    ],
    ids=["delay", "stall", "flood"],
)
def test_the_stand_in_sees_the_client_leave_and_stops(model, standin, script):
    standin.respond(script)
    responses = raw_stream(model)
    assert [next(responses).candidates[0].content.parts[0].text for _ in range(2)] == script.pieces[:2]
    responses.cancel()

    [request] = standin.requests
    assert request.gone.wait(20), "the stand-in did not notice the client leaving"
    assert request.finished.wait(20)
    assert request.gone_at >= request.started_at
    assert request.pieces_sent < len(script.pieces) // 2


def test_stop_returns_quickly_with_a_stalled_handler(model, standin):
    standin.respond(pieces=["a", "b"], stall_after=1, stall_seconds=60)
    responses = raw_stream(model)
    next(responses)
    started = time.monotonic()
    standin.stop()
    assert time.monotonic() - started < 5
    [request] = standin.requests
    assert request.finished.wait(5)
    assert not request.gone.is_set(), "stopping the server is not the client leaving"
    responses.cancel()
