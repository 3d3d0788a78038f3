"""Ending Gemini's call under the production server: gunicorn's gevent worker,
where every greenlet shares one OS thread, on both transports against the
Vertex AI stand-in. A program that goes away and a stall timeout end the
upstream call (the stand-in sees its client go), the answer's stream ends
properly, and the worker stays healthy. (Closing a REST response from the
greenlet that was not reading it used to be a reentrant call into the
reader's buffer: the stream never ended.)"""

import json
import socket

import pytest
import requests

from deploy.stack import gunicorn
from tests.end_to_end.conftest import gemini_env
from tests.providers.vertex_standin import VertexStandIn

SEE_THE_CLIENT_GO = 20
TIMED_OUT = "The model took too long to answer. Please try again."


@pytest.fixture(scope="module", params=["grpc", "rest"])
def stack(request, tmp_path_factory):
    with VertexStandIn(transport=request.param) as standin:
        env = gemini_env(standin, CHAT_STALL_TIMEOUT="1", CHAT_UPSTREAM_RETRIES="0")
        with gunicorn(tmp_path_factory.mktemp(f"gemini-{request.param}"), env) as (base, _log, _process):
            yield base, standin


def ask(base, message):
    return requests.post(f"{base}/api/chat/stream", json={"message": message, "history": []}, stream=True, timeout=60)


def test_a_stall_ends_the_answer_and_the_call_and_the_worker_goes_on(stack):
    base, standin = stack
    standin.respond(pieces=["one ", "two"], stall_after=1, stall_seconds=120)
    assert ask(base, "hello").text == f"one \n[chat error] {TIMED_OUT}\n"
    assert standin.requests[-1].gone.wait(SEE_THE_CLIENT_GO), "the silent call was left open"
    standin.respond(pieces=["still ", "here"])
    assert ask(base, "again").text == "still here"
    assert requests.get(f"{base}/healthz", timeout=30).json()["model_streams_open"] == 0


def test_a_program_that_goes_away_ends_the_call(stack):
    base, standin = stack
    standin.respond(pieces=[f"w{i} " for i in range(400)], delay=0.05)
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps({"message": "hi", "history": []}).encode()
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(b"POST /api/chat/stream HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        received = b""
        while b"w0" not in received:
            received += sock.recv(65536)
    request = standin.requests[-1]
    assert request.gone.wait(SEE_THE_CLIENT_GO), "Gemini was still streaming to nobody"
    assert request.pieces_sent < 100
    standin.respond(pieces=["next"])
    assert ask(base, "again").text == "next"
