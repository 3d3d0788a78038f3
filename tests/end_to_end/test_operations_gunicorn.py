"""Operating the real server: gunicorn with two gevent workers, metrics on
(prometheus-client's multiprocess mode) and JSON logs, Gemini played by the
stand-in. After a known mix of answers every scrape, whichever worker serves
it, counts exactly that mix; one request's JSON log lines all carry its id."""

import json
import os
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from deploy.stack import gunicorn
from tests.conftest import page_session, start_answer
from tests.end_to_end.conftest import gemini_env
from tests.providers.vertex_standin import Script, VertexStandIn

SLOW = dict(pieces=[f"p{i} " for i in range(20)], delay=0.05)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("operations")
    with VertexStandIn(transport="grpc") as standin:
        env = gemini_env(
            standin, CHAT_MODEL="gemini-2.5-flash", GUNICORN_WORKERS="2", CHAT_METRICS="1", CHAT_LOG_FORMAT="json",
            PROMETHEUS_MULTIPROC_DIR=str(tmp / "metrics"),
        )
        with gunicorn(tmp, env) as (base, log_path, _process):
            yield base, standin, log_path, tmp / "metrics"


def answers_counted(base):
    families = text_string_to_metric_families(requests.get(f"{base}/metrics", timeout=30).text)
    counts = {}
    for family in families:
        if family.name == "chat_answers":
            for sample in family.samples:
                if sample.name == "chat_answers_total":
                    counts[sample.labels["outcome"]] = counts.get(sample.labels["outcome"], 0) + sample.value
    return counts


def ask(base, message):
    return requests.post(f"{base}/api/chat", json={"message": message}, timeout=60)


def test_every_scrape_counts_the_answers_of_every_worker(stack):
    base, standin, _log, metrics_dir = stack
    # Ten answers at once, so both workers take some; whichever request
    # reaches the stand-in first gets the first script, but the mix is fixed.
    standin.respond(*[Script(**SLOW)] * 7, *[Script(status=400)] * 3, Script(**SLOW))
    with ThreadPoolExecutor(10) as pool:
        statuses = sorted(response.status_code for response in pool.map(lambda i: ask(base, f"q{i}"), range(10)))
    assert statuses == [200] * 7 + [502] * 3

    browser = page_session(base)
    standin.respond(Script(pieces=[f"w{i} " for i in range(400)], delay=0.05))
    bubbles, events_url = start_answer(browser, base, "to be stopped")
    answer_id = re.search(r'hx-sse:connect="/answers/(\d+)/events', bubbles).group(1)
    with browser.get(events_url, stream=True, timeout=60) as events:
        chunks = events.iter_content(chunk_size=None)
        while b"w1" not in next(chunks):
            pass
        browser.post(f"{base}/answers/{answer_id}/stop", headers={"HX-Request": "true"}, timeout=30)
        b"".join(chunks)  # to the stopped answer's end

    pids = {re.search(r"_(\d+)\.db$", name).group(1) for name in os.listdir(metrics_dir) if name.endswith(".db")}
    assert len(pids) >= 2, "both workers wrote samples"
    for _scrape in range(6):  # any worker may serve a scrape
        counts = answers_counted(base)
        assert (counts.get("complete"), counts.get("error"), counts.get("stopped")) == (7, 3, 1), counts


def test_every_json_log_line_of_a_request_and_its_answer_carries_its_id(stack):
    base, standin, log_path, _metrics = stack
    standin.respond(Script(pieces=["fine ", "answer"]))
    browser = page_session(base)
    browser.headers["X-Request-Id"] = "req-traced-000001"
    response = browser.post(f"{base}/messages", headers={"HX-Request": "true"}, data={"message": "trace me"},
                            timeout=30)
    assert response.headers["X-Request-Id"] == "req-traced-000001"
    answer_id = int(re.search(r'hx-sse:connect="/answers/(\d+)/events', response.text).group(1))
    del browser.headers["X-Request-Id"]  # the subscription is a request of its own
    browser.get(f"{base}/answers/{answer_id}/events", timeout=30)  # follows the answer to its end

    lines = []
    for line in Path(log_path).read_text().splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            if record.get("answer_id") == answer_id:
                lines.append(record)
    assert any(record["message"] == "answer finished: complete" for record in lines)
    assert lines and all(record["request_id"] == "req-traced-000001" for record in lines)
    access = [json.loads(line) for line in Path(log_path).read_text().splitlines() if '"gunicorn.access"' in line]
    assert any((record["method"], record["path"], record["status"], record["request_id"])
               == ("POST", "/messages", 200, "req-traced-000001") for record in access), "gunicorn's access line names it too"


def test_made_up_methods_do_not_grow_the_metrics_files_or_the_scrape(stack):
    """Each invented method once made a series in a worker's file and in every
    scrape; through gunicorn's workers they all count as `other`."""
    base, _standin, _log, _metrics = stack
    host, port = base.removeprefix("http://").split(":")

    def send_methods(first):
        with socket.create_connection((host, int(port)), timeout=30) as connection:
            for number in range(first, first + 100):
                request = f"M{number:05d}AAAA / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"
                connection.sendall(request.encode())
                reply = b""
                while b"\r\n\r\n" not in reply:
                    reply += connection.recv(65536)
                head, _, body = reply.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
                while len(body) < length:
                    body += connection.recv(65536)
                assert head.split()[1] in (b"400", b"405"), head[:80]

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send_methods, range(0, 1000, 100)))
    families = text_string_to_metric_families(requests.get(f"{base}/metrics", timeout=30).text)
    methods = {sample.labels["method"] for family in families if family.name == "chat_http_requests"
               for sample in family.samples}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}, sorted(methods)[:10]
