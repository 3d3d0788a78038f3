"""The review's attack on answers' event streams, end to end (issue 30,
point 4): one cookie, one answer, its event stream opened from a few dozen
addresses and never read. A real nginx in front of a real gunicorn whose
worker holds fewer connections than the attack opens (the same exhaustion as
the review's, at a size this machine runs quickly). A visitor from another
address must be served, and get a whole answer, while the attacker's answer
is still being written: an order, not a time."""

import http.client
import json
import re
from contextlib import ExitStack

import pytest
import requests

from app.web.event_stream_limits import READERS_PER_ANSWER
from deploy.stack import RATE_LIMITS, gunicorn, nginx
from tests.conftest import HTMX, page_session, start_answer
from tests.end_to_end.test_nginx import needs_nginx  # noqa: F401 (autouse: skips without nginx)
from tests.end_to_end.test_nginx_limits import host_port

ATTACKER_ADDRESSES = [f"127.0.0.{n}" for n in range(10, 40)]
STREAMS_PER_ADDRESS = 12  # under nginx's per-address limit_conn: the app's bounds are the ones tested
WORKER_CONNECTIONS = 300  # fewer than the 360 streams the attack opens
VISITOR = "127.0.0.250"


class SourceAddressAdapter(requests.adapters.HTTPAdapter):
    """Connections from one loopback address: Linux routes all of 127/8 to lo."""

    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def from_address(browser, address):
    """`browser` (its cookie and CSRF token) as if it came from `address`."""
    copy = requests.Session()
    copy.headers.update(browser.headers)
    copy.cookies.update(browser.cookies)
    copy.mount("http://", SourceAddressAdapter(address))
    return copy


@pytest.fixture
def site(tmp_path):
    with ExitStack() as servers:
        base, _log, _process = servers.enter_context(gunicorn(tmp_path, {
            **RATE_LIMITS,  # as deployed
            "CHAT_RATE_NEW_OWNERS_PER_HOUR": "0",
            "GUNICORN_WORKER_CONNECTIONS": str(WORKER_CONNECTIONS),
            # The attacker's answer outlasts the test: its streams stay open.
            "CHAT_FAKE_CHUNKS": "100", "CHAT_FAKE_CHUNK_MS": "3000",
        }))
        url, _prefix = servers.enter_context(nginx(tmp_path, [base]))
        yield url


def still_being_written(browser, site, bubbles):
    """True while the answer in `bubbles` has not ended, as its conversation's page shows it."""
    conversation_id = re.search(r'name="conversation_id" value="([^"]+)"', bubbles).group(1)
    page = browser.get(f"{site}/c/{conversation_id}", timeout=60)
    assert page.status_code == 200
    return "outcome-streaming" in page.text


def test_unread_event_streams_from_many_addresses_do_not_stop_the_site(site):
    attacker = page_session(site)
    bubbles, events_url = start_answer(attacker, site, "x" * 100)
    statuses, streams = [], []
    try:
        for address in ATTACKER_ADDRESSES:
            from_there = from_address(attacker, address)
            for _ in range(STREAMS_PER_ADDRESS):
                try:
                    response = from_there.get(events_url, headers=HTMX, stream=True, timeout=20)
                except requests.exceptions.ReadTimeout:
                    statuses.append("no answer")  # the worker has no connection left
                    continue
                streams.append(response)
                statuses.append(response.status_code)
                if response.status_code != 200:
                    assert response.headers["Retry-After"]
                    response.close()
        assert statuses.count(200) == READERS_PER_ANSWER
        assert set(statuses) == {200, 429}, "every other reader is refused at once"

        # A visitor elsewhere: the page, a message, its whole answer (its own
        # cookie: an answer of 20 pieces, as the site's fake model writes them).
        visitor = from_address(requests.Session(), VISITOR)
        connection = http.client.HTTPConnection(*host_port(site), timeout=60, source_address=(VISITOR, 0))
        connection.request("POST", "/api/chat", json.dumps({"message": "still here"}),
                           {"Content-Type": "application/json"})
        reply = connection.getresponse()
        assert reply.status == 200 and json.loads(reply.read())["reply"] == "still here"
        connection.close()
        visitor_page = visitor.get(site + "/", timeout=60)
        assert visitor_page.status_code == 200 and 'name="csrf-token"' in visitor_page.text

        assert still_being_written(attacker, site, bubbles), "the visitor was served while the attack went on"
    finally:
        for stream in streams:
            stream.close()
