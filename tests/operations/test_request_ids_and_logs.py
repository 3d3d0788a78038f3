"""Every request has an id: in its response, in every log line of the request
and of the answer it started, and in the error a person sees. JSON logs carry
it with the other ids and never the message's text. /readyz says whether the
process can serve."""

import io
import json
import logging
import re

import pytest
from sqlalchemy import create_engine

from app.operations.logs import configure_logging
from tests.conftest import HTMX
from tests.page_flow import read_all, subscribe
from tests.scripted_model import ScriptedChatModel

SECRET_QUESTION = "my private question about the merger"


@pytest.fixture
def json_log():
    """The root logger writing JSON lines into a buffer; restored afterwards
    (pytest's own capture handler included)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    configure_logging("json", stream=buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_a_sane_request_id_is_kept_and_any_other_is_replaced(client):
    assert client.get("/healthz", headers={"X-Request-Id": "nginx-3f9c0a1b2c3d"}).headers["X-Request-Id"] == (
        "nginx-3f9c0a1b2c3d"
    )
    made = client.get("/healthz", headers={"X-Request-Id": "bad id; with spaces"}).headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz").headers["X-Request-Id"] != client.get("/healthz").headers["X-Request-Id"]


def test_every_log_line_of_a_request_and_of_its_answer_carries_its_id(make_app, json_log):
    model = ScriptedChatModel(pieces=["half", "never"], fail_after=1)
    client = make_app(chat_model=model).test_client()
    response = client.post("/messages", data={"message": SECRET_QUESTION},
                           headers={**HTMX, "X-Request-Id": "req-0123456789"})
    bubbles = response.get_data(as_text=True)
    conversation_id = re.search(r'name="conversation_id" value="([^"]+)"', bubbles).group(1)
    answer_id = int(re.search(r'hx-sse:connect="/answers/(\d+)/events', bubbles).group(1))
    final = read_all(subscribe(client, bubbles))
    lines = [line for line in json_log() if line.get("answer_id") == answer_id]
    assert {line["message"] for line in lines} >= {"model failed after 1 pieces", "answer finished: error"}
    assert all(line["request_id"] == "req-0123456789" for line in lines), "the answer's lines name the POST"
    assert all(line["conversation_id"] == conversation_id and re.fullmatch(r"[0-9a-f]{12}", line["owner"])
               for line in lines)
    finished = next(line for line in lines if line["message"] == "answer finished: error")
    assert finished["outcome"] == "error" and finished["pieces"] == 1 and finished["seconds"] >= 0
    assert SECRET_QUESTION not in json.dumps(json_log()), "no message text in the logs"
    assert "(reference: req-0123456789)" in final, "the person can quote it"


def test_a_refusal_quotes_its_request_id(client):
    response = client.post("/api/chat", json={"message": ""}, headers={"X-Request-Id": "req-refused-001"})
    assert response.status_code == 400 and response.json["request_id"] == "req-refused-001"
    page = client.get("/c/no-such-conversation", headers={"X-Request-Id": "req-missing-001"})
    assert page.status_code == 404 and "Reference: req-missing-001" in page.get_data(as_text=True)


def test_text_logs_carry_the_request_id_too(client):
    root = logging.getLogger()
    handlers = list(root.handlers)
    buffer = io.StringIO()
    configure_logging("text", stream=buffer)
    try:
        client.get("/c/missing", headers={"X-Request-Id": "req-text-0001"})
        logging.getLogger("app.test").info("a line")  # outside any request
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in handlers:
            root.addHandler(handler)
    assert re.search(r" INFO app\.test \[-\]: a line$", buffer.getvalue(), re.M)


def test_readyz_checks_the_database(make_app):
    app = make_app()
    client = app.test_client()
    assert client.get("/readyz").json == {"status": "ready"}
    app.extensions["db_engine"] = create_engine("sqlite:////nonexistent/dir/chat.sqlite3")  # gone
    broken = client.get("/readyz")
    assert broken.status_code == 503 and broken.json["problems"] == {"database": "The database cannot be reached."}
