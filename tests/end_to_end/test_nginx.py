"""End to end through a real nginx in front of a real gunicorn (fake provider)."""

import concurrent.futures
import http.client
import json
import re
import shutil
import signal
import socket
import time

import pytest
import requests

from deploy.stack import gunicorn, nginx
from tests.conftest import HTMX, PIECE_MARK, page_session, skip_or_fail, start_answer
from tests.end_to_end.test_gunicorn import arrival_times, assert_spread_out
from tests.sse_client import decode_events


@pytest.fixture(autouse=True)
def needs_nginx():
    if not shutil.which("nginx") and not __import__("os").path.exists("/usr/sbin/nginx"):
        skip_or_fail("nginx is not installed (apt-get install nginx)")


@pytest.fixture
def stack(tmp_path):
    """Start gunicorn (with `env`) behind nginx; yields (nginx_url, gunicorn_log, gunicorn_process)."""

    def start(env, read_timeout="300s", client_limits=True):
        app = gunicorn(tmp_path, env)
        base, log, process = app.__enter__()
        proxy = nginx(tmp_path, [base], read_timeout=read_timeout, client_limits=client_limits)
        url, _prefix = proxy.__enter__()
        started.append((app, proxy))
        return url, log, process

    started = []
    yield start
    for app, proxy in reversed(started):
        proxy.__exit__(None, None, None)
        app.__exit__(None, None, None)


SPACED = {"CHAT_FAKE_CHUNKS": "5", "CHAT_FAKE_CHUNK_MS": "300"}


def test_text_pieces_stay_spaced_through_nginx(stack):
    url, _log, _ = stack(SPACED)
    with requests.post(f"{url}/api/chat/stream", json={"message": "abcdefghij"}, stream=True, timeout=30) as r:
        assert r.status_code == 200 and "Content-Encoding" not in r.headers
        arrivals = arrival_times(r)
    assert b"".join(c for _, c in arrivals) == b"abcdefghij"
    assert_spread_out(arrivals, 0.3)


def test_page_pieces_stay_spaced_through_nginx(stack):
    url, _log, _ = stack(SPACED)
    browser = page_session(url)
    _bubbles, events_url = start_answer(browser, url, "abcdefghij")
    with browser.get(events_url, headers={**HTMX, "Accept-Encoding": "gzip"}, stream=True, timeout=30) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        assert "Content-Encoding" not in r.headers, "event streams are never gzipped"
        arrivals = [(t, c) for t, c in arrival_times(r) if PIECE_MARK in c]
    assert len(arrivals) == 5
    assert_spread_out(arrivals, 0.3)


def test_the_no_script_frame_grows_through_nginx_also_gzipped(stack):
    # nginx gzips every text/html response, the frame that shows an answer
    # without JavaScript too: each piece must still leave as it comes (a sync
    # flush), not with the document's end. A second between pieces: even a
    # reader starved on a busy machine sees the first one long before the end.
    url, _log, _ = stack({"CHAT_FAKE_CHUNKS": "5", "CHAT_FAKE_CHUNK_MS": "1000"})
    browser = page_session(url)
    _bubbles, events_url = start_answer(browser, url, "abcdefghij")
    frame_url = events_url.replace("/events?", "/progressive?")
    seen = ""
    with browser.get(frame_url, headers={"Accept-Encoding": "gzip"}, stream=True, timeout=30) as r:
        assert r.headers["Content-Type"].startswith("text/html")
        assert r.headers.get("Content-Encoding") == "gzip"
        chunks = r.iter_content(chunk_size=None, decode_unicode=True)
        while 'id="answer-text"><div class="text tail">a' not in seen:
            seen += next(chunks)
        assert 'id="answer-end"' not in seen, "the first piece came with the end: held back"
        seen += "".join(chunks)
    # The plain text as it came, then (hidden by the style sheet) the block rendered at the end.
    assert re.search(r'id="answer-text"><div class="text tail">abcdefghij</div><p>abcdefghij</p>\s*</div>'
                     r'<p class="notice" id="answer-end">', seen)


def test_static_files_are_served_by_nginx_with_long_caching(stack):
    url, log, _ = stack({})
    page = requests.get(url, timeout=10).text
    css = re.search(r'href="(/static/chat\.css\?v=[0-9a-f]+)"', page).group(1)
    response = requests.get(url + css, timeout=10)
    assert response.status_code == 200 and "immutable" in response.headers["Cache-Control"]
    assert len(response.raw.headers.getlist("Cache-Control")) == 1, "one Cache-Control header, not two"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "/static/" not in log.read_text(), "static files never reach gunicorn"


def test_nginx_gives_each_request_its_id_and_keeps_the_metrics_private(stack):
    url, _log, _ = stack({"CHAT_METRICS": "1"})
    response = requests.get(f"{url}/healthz", headers={"X-Request-Id": "client-chosen-id"}, timeout=10)
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"]), "nginx's $request_id, not the client's"
    assert requests.get(f"{url}/metrics", timeout=10).status_code == 404


def test_heartbeats_keep_a_silent_model_alive_past_proxy_read_timeout(stack):
    env = {"CHAT_FAKE_CHUNKS": "2", "CHAT_FAKE_TTFT_MS": "3500", "CHAT_HEARTBEAT_SECONDS": "0.5"}
    url, _log, _ = stack(env, read_timeout="2s")
    browser = page_session(url)
    _bubbles, events_url = start_answer(browser, url, "silence")
    with browser.get(events_url, headers=HTMX, stream=True, timeout=30) as r:
        body = b"".join(r.iter_content(chunk_size=None)).decode()
    assert body.count("event: heartbeat\n") >= 4
    assert "outcome-complete" in decode_events(body)[-2]["data"] and decode_events(body)[-1]["event"] == "done"


def test_an_api_client_that_disconnects_through_nginx_closes_the_model_stream(stack):
    # A program's request-bound answer ends with its connection (the page's
    # answers do not: they are generated apart from any request).
    env = {"CHAT_FAKE_CHUNKS": "200", "CHAT_FAKE_CHUNK_MS": "100"}
    url, log, _ = stack(env)
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    body = json.dumps({"message": "x" * 200})
    sock.sendall(
        f"POST /api/chat/stream HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}".encode()
    )
    received = b""
    while received.count(b"x") < 3:
        data = sock.recv(65536)
        assert data, f"the stream ended early: {received[-500:]!r}"
        received += data
    sock.close()
    deadline = time.monotonic() + 10
    while "stopped early" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    closed = re.search(r"model stream closed after (\d+) pieces: stopped early", log.read_text())
    assert closed, "the app closed the model stream"
    assert int(closed.group(1)) < 200


def test_a_hup_to_gunicorn_lets_an_answer_in_flight_finish(stack):
    env = {"CHAT_FAKE_CHUNKS": "20", "CHAT_FAKE_CHUNK_MS": "150"}
    url, log, process = stack(env)
    message = "an answer that outlives a reload"
    with requests.post(f"{url}/api/chat/stream", json={"message": message}, stream=True, timeout=30) as r:
        chunks = r.iter_content(chunk_size=None)
        received = next(chunks)
        process.send_signal(signal.SIGHUP)
        for chunk in chunks:
            received += chunk
    assert received.decode() == message
    # and the reloaded server answers the next request
    assert requests.post(f"{url}/api/chat", json={"message": "after"}, timeout=30).json()["reply"] == "after"
    assert "Handling signal: hup" in log.read_text()


def test_200_concurrent_streams_through_nginx_are_all_byte_exact(stack):
    env = {"CHAT_FAKE_CHUNKS": "20", "CHAT_FAKE_CHUNK_MS": "50", "GUNICORN_ACCESS_LOG": "/dev/null"}
    # 200 clients on one address is a load test, not a household: without the
    # site's per-address limits (test_nginx_limits.py tests those).
    url, _log, _ = stack(env, client_limits=False)
    host, port = url.removeprefix("http://").split(":")

    def one_stream(index):
        message = f"stream {index}: " + "é✓<b>&" * (index % 7 + 3)
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.request("POST", "/api/chat/stream", json.dumps({"message": message}),
                           {"Content-Type": "application/json"})
        body = connection.getresponse().read().decode()
        connection.close()
        return body == message

    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(one_stream, range(200)))
    assert sum(results) == 200


def test_while_the_app_restarts_nginx_shows_the_products_own_page_and_programs_get_json(stack):
    url, _log, process = stack({})
    assert requests.get(url, timeout=10).status_code == 200
    process.send_signal(signal.SIGINT)  # the app goes away, as in a restart
    process.wait(timeout=30)
    page = requests.get(url + "/c/some-conversation", headers={"Accept": "text/html"}, timeout=10)
    assert page.status_code == 502 and page.headers["Content-Type"].startswith("text/html")
    assert "<h1>Back in a moment</h1>" in page.text and "The chat is restarting" in page.text
    assert '<a href="">Reload this page</a>' in page.text
    assert "<script" not in page.text and "<style" not in page.text and " style=" not in page.text
    assert page.headers["Content-Security-Policy"] == "default-src 'none'"
    assert page.headers["Cache-Control"] == "no-store" and page.headers["Retry-After"] == "5"
    # A message sent without JavaScript (a form POST) gets the same page.
    posted = requests.post(url + "/messages", data={"message": "hello"}, timeout=10)
    assert posted.status_code == 502 and "Back in a moment" in posted.text
    api = requests.post(url + "/api/chat", json={"message": "hello"}, timeout=10)
    assert api.status_code == 502 and api.headers["Content-Type"] == "application/json"
    assert api.json() == {"error": "The service is restarting: try again in a few seconds."}
    openai = requests.get(url + "/v1/models", timeout=10)
    assert openai.status_code == 502 and openai.json()["error"]["code"] == "service_unavailable"
