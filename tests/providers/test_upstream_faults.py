"""Upstream faults through the Vertex AI stand-in, with the app's retries and
timeouts on: each ends in the right message, keeps what was said, and leaves
the server healthy for the next request."""

import html

import pytest

from app.answers.outcomes import TIMED_OUT
from app.web.api import ERROR_MARKER
from tests.providers.test_vertexai import CONNECTION_LOST, RATE_LIMITED, UNAVAILABLE, chunks_of, post_message, post_text
from tests.page_flow import final_html
from tests.providers.vertex_standin import Script

FAILED = "The model failed to answer (a server error on its side). Please try again."


@pytest.fixture
def client(vertex_app):
    app = vertex_app(upstream_retries=2, retry_backoff=0.05, first_piece_timeout=1.0, stall_timeout=1.0)
    return app.test_client()


def final_of(chunks):
    return final_html("".join(chunks))


def healthy(client, standin):
    standin.respond(pieces=["fine"])
    assert "".join(chunks_of(post_text(client, "next"))) == "fine"


@pytest.mark.parametrize("status", [429, 500, 503])
def test_an_error_before_the_stream_is_retried_then_answered(client, standin, status):
    standin.respond(Script(status=status), Script(pieces=["after ", "retry"]))
    assert "".join(chunks_of(post_text(client, "hello"))) == "after retry"
    assert len(standin.requests) == 2


@pytest.mark.parametrize("status, message", [(429, RATE_LIMITED), (500, FAILED), (503, UNAVAILABLE)])
def test_an_error_that_outlasts_the_retries_ends_in_its_message(client, standin, status, message):
    standin.respond(status=status)
    final = final_of(chunks_of(post_message(client, "hello")))
    assert f'<p class="notice error">{html.escape(message)}' in final
    assert len(standin.requests) == 3, "one try and two retries"
    healthy(client, standin)


def test_a_cut_mid_stream_is_not_retried_and_keeps_the_partial(client, standin):
    standin.respond(pieces=["one ", "two ", "three"], cut_after=2)
    body = "".join(chunks_of(post_text(client, "hello")))
    assert body == f"one two {ERROR_MARKER}{CONNECTION_LOST}\n"
    assert len(standin.requests) == 1, "no retry once text was shown"
    healthy(client, standin)


def test_a_stall_longer_than_the_stall_timeout_ends_with_the_partial(client, standin):
    standin.respond(pieces=["one ", "two ", "three"], stall_after=2, stall_seconds=5)
    final = final_of(chunks_of(post_message(client, "hello")))
    assert "one two" in final and html.escape(TIMED_OUT) in final and "three" not in final
    healthy(client, standin)


@pytest.mark.parametrize("standin", ["rest"], indirect=True)  # gRPC frames cannot be half-JSON
def test_malformed_data_mid_stream_keeps_the_partial(client, standin):
    standin.respond(pieces=["one ", "two "], malformed_after=1)
    body = "".join(chunks_of(post_text(client, "hello")))
    assert body.startswith("one ") and ERROR_MARKER in body
    healthy(client, standin)


def test_a_first_piece_slower_than_the_timeout_is_retried_then_reported(client, standin):
    standin.respond(pieces=["late"], stall_after=0, stall_seconds=5)
    body = "".join(chunks_of(post_text(client, "hello")))
    assert body == f"{ERROR_MARKER}{TIMED_OUT}\n"
    assert len(standin.requests) == 3
    healthy(client, standin)
