"""One log format in one stream: with CHAT_LOG_FORMAT=json every line a real
gunicorn writes (its own start and stop, each worker's, the app's, the access
lines) is one JSON object, and a request's access line carries its id; in the
default text mode the access line stays gunicorn's plain one."""

import json
import re
from pathlib import Path

import requests

from deploy.stack import gunicorn

REQUEST_ID = "req-json-access-01"


def requests_to(base):
    """A message on the API (its id sent), and the sign-in callback's address with
    a code and state in its query, which no line may repeat."""
    answer = requests.post(f"{base}/api/chat", json={"message": "hello"}, timeout=60,
                           headers={"X-Request-Id": REQUEST_ID, "User-Agent": "json-log-test/1"})
    assert answer.status_code == 200
    requests.get(f"{base}/sign-in/callback?code=c0de1234&state=s7a7e567", timeout=30)


def test_with_json_logs_every_line_of_the_server_is_json_and_the_access_line_names_the_request(tmp_path):
    with gunicorn(tmp_path, {"CHAT_LOG_FORMAT": "json"}) as (base, log_path, _process):
        requests_to(base)
    text = Path(log_path).read_text()  # after the stop, so the shutdown's lines are in it too
    assert "c0de1234" not in text and "s7a7e567" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
    assert all(isinstance(record, dict) for record in records)
    assert any(record.get("logger") == "gunicorn.error" and "Listening at" in record["message"] for record in records)

    access = [record for record in records if record.get("logger") == "gunicorn.access"]
    (chat,) = [record for record in access if record["path"] == "/api/chat"]
    assert chat["request_id"] == REQUEST_ID
    assert (chat["method"], chat["status"], chat["remote_addr"], chat["user_agent"]) == (
        "POST", 200, "127.0.0.1", "json-log-test/1")
    assert chat["bytes"] > 0 and chat["duration"] >= 0
    (callback,) = [record for record in access if record["path"].startswith("/sign-in/callback")]
    assert callback["path"] == "/sign-in/callback" and callback["request_id"]


def test_without_json_logs_the_access_line_is_gunicorns_plain_one(tmp_path):
    with gunicorn(tmp_path) as (base, log_path, _process):
        requests_to(base)
    lines = Path(log_path).read_text().splitlines()
    chat = [line for line in lines if '"POST /api/chat HTTP/1.1"' in line]
    assert len(chat) == 1
    assert re.fullmatch(rf'127\.0\.0\.1 "POST /api/chat HTTP/1\.1" 200 \d+ [\d.]+s "json-log-test/1" {REQUEST_ID}',
                        chat[0]), chat[0]
    assert not any(line.startswith("{") for line in lines)
