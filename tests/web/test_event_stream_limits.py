"""Readers of answers (GET /answers/<id>/events and /progressive) are bounded
per answer, per person and per network, so one cookie cannot hold every
connection a worker has (issue 30, point 4). Each test opens readers and
never reads them, as the attack does; a reader's slot is taken as its request
is answered, so nothing here waits on the stream."""

from contextlib import ExitStack

import pytest

from app.web.event_stream_limits import READERS_PER_ANSWER, READERS_PER_NETWORK, READERS_PER_PERSON
from app.web.network_prefix import network_of
from tests.page_flow import post, read_all, send, subscribe
from tests.web.test_rate_limits import store  # noqa: F401 (fixture: machine and database stores)

# Limits on, as any deployment has them (the tests' default turns them off).
LIMITS_ON = {"rate_max_streams": 3, "rate_address_max_streams": 12}
ATTACKER_NETWORK = "2001:db8:1:2:"


def client_from(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def open_readers(readers, client, url, count, address=None):
    """`count` readers of `url` left unread; their statuses, in order."""
    statuses = []
    for _ in range(count):
        environ = {"REMOTE_ADDR": address} if address else None
        response = client.get(url, headers={"HX-Request": "true"}, buffered=False, environ_overrides=environ)
        readers.callback(response.close)
        statuses.append(response.status_code)
    return statuses


@pytest.fixture
def app(make_app, store):  # noqa: F811
    return make_app(rate_limit_store=store, **LIMITS_ON)


def test_network_of_counts_an_ipv6_client_by_its_64():
    assert network_of("2001:db8:1:2:aaaa::1") == network_of("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert network_of("2001:db8:1:3::1") != network_of("2001:db8:1:2::1")
    assert network_of("203.0.113.7") == "203.0.113.7"
    assert network_of("::ffff:203.0.113.7") == "203.0.113.7"
    assert network_of("unix-socket") == "unix-socket"


def test_one_answer_opened_in_many_windows_is_bounded_and_a_closed_one_frees_a_slot(app):
    owner = app.test_client()
    _conversation, answer_id, _html = post(owner, "/messages", message="hello")
    url = f"/answers/{answer_id}/events?offset=0"
    with ExitStack() as readers:
        statuses = open_readers(readers, owner, url, READERS_PER_ANSWER + 5)
        assert statuses == [200] * READERS_PER_ANSWER + [429] * 5
        refused = owner.get(url, headers={"HX-Request": "true"})
        assert refused.status_code == 429 and refused.headers["Retry-After"]
        assert "open in too many windows" in refused.get_data(as_text=True)
        progressive = owner.get(f"/answers/{answer_id}/progressive")
        assert progressive.status_code == 429, "the no-script frame counts as a reader too"
        readers.close()
    # Every reader that ended gave its slot back: the answer reads in full.
    assert "hello" in read_all(subscribe(owner, url))


def test_one_person_following_many_answers_is_bounded(app):
    owner = app.test_client()
    answers = [post(owner, "/messages", message=f"q{n}")[1] for n in range(3)]
    with ExitStack() as readers:
        statuses = []
        for answer_id in answers:
            statuses += open_readers(readers, owner, f"/answers/{answer_id}/events?offset=0", READERS_PER_ANSWER)
        assert statuses.count(200) == READERS_PER_PERSON and statuses[READERS_PER_PERSON:] == [429] * (
            3 * READERS_PER_ANSWER - READERS_PER_PERSON)


def test_a_network_is_bounded_whatever_addresses_in_its_64_and_whoever_its_readers_say_they_are(app):
    """The review's attack: readers from many IPv6 addresses of one /64 (and
    fresh cookies): only the network's bound is open at once, and a person
    elsewhere still sends and reads a whole answer meanwhile."""
    with ExitStack() as readers:
        statuses, n = [], 0
        while len(statuses) < READERS_PER_NETWORK + 10:
            attacker = client_from(app, f"{ATTACKER_NETWORK}:{n:x}")
            _conversation, answer_id, _html = post(attacker, "/messages", message="x")
            # Each address stays under the per-answer and per-person bounds.
            statuses += open_readers(readers, attacker, f"/answers/{answer_id}/events?offset=0",
                                     READERS_PER_ANSWER, address=f"{ATTACKER_NETWORK}:{n + 1:x}")
            n += 2
        assert statuses.count(200) == READERS_PER_NETWORK
        assert statuses[READERS_PER_NETWORK:] == [429] * (len(statuses) - READERS_PER_NETWORK)
        victim = client_from(app, "198.51.100.9")
        _conversation, body = send(victim, "still here")
        assert "still here" in body and 'event: done' in body


def test_limits_off_count_no_readers(make_app):
    app = make_app()  # every CHAT_RATE_* limit 0, as the load tests run
    owner = app.test_client()
    _conversation, answer_id, _html = post(owner, "/messages", message="hello")
    with ExitStack() as readers:
        statuses = open_readers(readers, owner, f"/answers/{answer_id}/events?offset=0", READERS_PER_ANSWER + 2)
        assert statuses == [200] * (READERS_PER_ANSWER + 2)
