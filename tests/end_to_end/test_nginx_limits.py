"""The nginx site's defences against one address taking the site for itself
(deploy/nginx.conf), end to end: a real nginx in front of a real gunicorn,
fake provider. 127.0.0.1 misbehaves; a visitor from 127.0.0.2 (Linux routes
all of 127/8 to lo, and nginx counts it as another address) must still be
served. Every assertion is on content and order, never on time: the limits
are timeouts and rates, but a busy machine must not make these tests flaky."""

import http.client
import json
import re
import resource
import selectors
import socket
import time
from contextlib import ExitStack, suppress

import pytest

from deploy.nginx_config import render_site
from deploy.stack import gunicorn, nginx
from tests.conftest import HTMX, page_session, start_answer
from tests.end_to_end.test_nginx import needs_nginx  # noqa: F401 (autouse: skips without nginx)

OTHER_ADDRESS = "127.0.0.2"
# nginx's own error page, which no response of the app's looks like (the
# app's refusals are JSON on the API and its own HTML on the page).
NGINX_PAGE = b"<center>nginx</center>"


@pytest.fixture
def site(tmp_path):
    """start(env) -> (url, nginx prefix): gunicorn with `env` behind nginx."""
    with ExitStack() as servers:
        def start(env=None):
            base, _log, _process = servers.enter_context(gunicorn(tmp_path, env))
            return servers.enter_context(nginx(tmp_path, [base]))
        yield start


def host_port(url):
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def request(url, method="GET", path="/", body=None, headers=None, source=OTHER_ADDRESS):
    """One request from `source`: (status, headers, body)."""
    connection = http.client.HTTPConnection(*host_port(url), timeout=120, source_address=(source, 0))
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def configured(pattern):
    """A number from the site as shipped (so the tests follow its tuning)."""
    return int(re.search(pattern, render_site(listen="80", upstreams=["127.0.0.1:8000"])).group(1))


def unread_by_server(port):
    """How many established connections to local `port` hold bytes their
    server has not read yet (rx_queue in /proc/net/tcp)."""
    count = 0
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":  # 01: ESTABLISHED
            count += int(fields[4].split(":")[1], 16) > 0
    return count


def wait_until_closed_by_server(socks, deadline_seconds=180):
    """Read every socket until the server closes it; returns those still open at the deadline."""
    selector = selectors.DefaultSelector()  # epoll: thousands of sockets
    for sock in socks:
        selector.register(sock, selectors.EVENT_READ)
    deadline = time.monotonic() + deadline_seconds
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            try:
                closed = key.fileobj.recv(4096) == b""
            except ConnectionResetError:
                closed = True
            if closed:
                selector.unregister(key.fileobj)
    left = [key.fileobj for key in selector.get_map().values()]
    selector.close()
    return left


def test_idle_connections_from_one_address_do_not_shut_out_another(site):
    # 4,500 connections, more than the review's 4,200 that took the site down
    # and than the 4,096 nginx used to allow. Each sends half a request line:
    # when it runs short nginx closes connections that have sent nothing yet
    # ("reusing connections"), but keeps those whose request it has begun.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # nginx, started next, inherits it
    attackers = []
    try:
        url, prefix = site()
        for _ in range(4500):
            sock = socket.create_connection(host_port(url), source_address=("127.0.0.1", 0))
            attackers.append(sock)
            with suppress(ConnectionError):  # refused at once: counted as closed below
                sock.sendall(b"GET / HT")
            sock.setblocking(False)
        # Only once nginx has read a half line is the connection its to keep.
        deadline = time.monotonic() + 60
        while unread_by_server(host_port(url)[1]) and time.monotonic() < deadline:
            time.sleep(0.05)

        status, _headers, body = request(url)

        assert status == 200 and b'name="csrf-token"' in body
        assert wait_until_closed_by_server(attackers) == [], "nginx closes requests that never finish their header"
        # Each by its header timeout, which logs a 408: none was dropped to
        # make room, so the visitor was served beside all of them.
        assert (prefix / "access.log").read_text().count('"GET / HT" 408') == len(attackers)
    finally:
        for sock in attackers:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_simultaneous_streams_from_one_address_are_capped(site):
    # An answer that outlasts the test: each event stream stays open.
    url, _prefix = site({"CHAT_FAKE_CHUNKS": "100", "CHAT_FAKE_CHUNK_MS": "3000"})
    browser = page_session(url)
    _bubbles, events_url = start_answer(browser, url, "x" * 100)
    streams = []
    try:
        for _ in range(300):
            streams.append(browser.get(events_url, headers=HTMX, stream=True, timeout=60))
            if streams[-1].status_code != 200:
                break
        refused = streams[-1]
        assert refused.status_code == 429 and NGINX_PAGE in refused.content
        assert all(r.headers["Content-Type"].startswith("text/event-stream") for r in streams[:-1])
        assert len(streams) - 1 == configured(r"limit_conn chat_\w+ (\d+);")

        status, _headers, body = request(url)  # while all of them are still open
        assert status == 200 and b'name="csrf-token"' in body
    finally:
        for stream in streams:
            stream.close()


def test_a_burst_of_messages_from_one_address_is_refused_beyond_the_burst(site):
    url, prefix = site()
    message = json.dumps({"message": "hi"})
    headers = {"Content-Type": "application/json"}
    # 50 requests sent back to back on connections opened beforehand, so that
    # nginx sees them within moments (its rate allows a few a second after
    # the burst), yet fewer than the per-address connection limit.
    burst = [http.client.HTTPConnection(*host_port(url), timeout=60) for _ in range(50)]
    for connection in burst:
        connection.connect()
    for connection in burst:
        connection.request("POST", "/api/chat", message, headers)
    answers = []
    for connection in burst:
        response = connection.getresponse()
        answers.append((response.status, response.read()))
        connection.close()

    served = [body for status, body in answers if status == 200]
    refused = [body for status, body in answers if status == 429]
    assert len(served) + len(refused) == len(answers)
    assert served and all(json.loads(body)["reply"] == "hi" for body in served)
    assert refused and all(NGINX_PAGE in body for body in refused)
    assert "limiting requests" in (prefix / "error.log").read_text()

    status, _headers, body = request(url, "POST", "/api/chat", message, headers)
    assert status == 200 and json.loads(body)["reply"] == "hi"


def test_responses_do_not_tell_the_nginx_version(site):
    url, _prefix = site()
    _status, headers, _body = request(url)
    assert headers["Server"] == "nginx"
    status, _headers, body = request(url, path="/static/no-such-file")  # nginx's own error page
    assert status == 404 and NGINX_PAGE in body
