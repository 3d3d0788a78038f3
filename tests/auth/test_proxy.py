"""CHAT_AUTH=proxy through the Flask test client: the person is the proxy's
header, believed only from the proxy's own address, with the proxy's secret,
and only when the proxy says it set that very header. (Through the real nginx
and a stand-in auth service: tests/end_to_end/test_nginx_auth_proxy.py.)"""

import logging
import re

import pytest
from sqlalchemy import select

from app.auth.people import remove_person
from app.auth.proxy import PERSON_HEADER_NAME_HEADER, PROXY_SECRET_HEADER
from app.storage.engine import session_for
from app.storage.models import Person
from tests.conftest import HTMX

HEADER = "X-Forwarded-Email"
SECRET = "tests-proxy-secret-0123456789abcdef"
# What the nginx site adds to every request it passes on (deploy/nginx.conf).
FROM_NGINX = {PROXY_SECRET_HEADER: SECRET, PERSON_HEADER_NAME_HEADER: HEADER}
VIA_PROXY = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", **FROM_NGINX}


@pytest.fixture
def proxy_app(make_app):
    def build(**overrides):
        return make_app(**{"auth": "proxy", "auth_header": HEADER, "proxy_hops": 1,
                           "auth_proxy_secret": SECRET, **overrides})
    return build


def environ_of(headers):
    return {"HTTP_" + name.upper().replace("-", "_"): value for name, value in headers.items()}


def as_person(app, email, header=HEADER, from_nginx=FROM_NGINX):
    """A browser behind the proxy, signed in there as `email`."""
    client = app.test_client()
    client.environ_base.update(environ_of({header: email, "X-Forwarded-For": "203.0.113.9", **from_nginx}))
    return client


def test_the_proxys_person_owns_the_page(proxy_app):
    app = proxy_app()
    alice = as_person(app, "Alice@Example.com")
    page = alice.get("/").get_data(as_text=True)
    assert "Signed in as" in page and "alice@example.com" in page
    url = alice.post("/messages", data={"message": "Team notes"}).location.split("#")[0]
    laptop = as_person(app, "alice@example.com")
    assert laptop.get(url).status_code == 200
    assert as_person(app, "bob@example.com").get(url).status_code == 404


def test_a_request_without_the_header_gets_a_clear_page(proxy_app):
    client = proxy_app().test_client()
    response = client.get("/", headers=VIA_PROXY)
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert '<main class="error-page">' in page and "Not signed in" in page and HEADER in page
    assert client.post("/messages", data={"message": "x"}, headers={**VIA_PROXY, **HTMX}).status_code == 401


def test_the_header_is_believed_only_from_the_proxys_address(proxy_app):
    app = proxy_app()
    direct = as_person(app, "alice@example.com")
    direct.environ_base["REMOTE_ADDR"] = "198.51.100.7"  # straight to the app, not through nginx
    assert direct.get("/").status_code == 401
    trusted_network = proxy_app(auth_proxy_addresses=("10.0.0.0/8",))
    behind = as_person(trusted_network, "alice@example.com")
    behind.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert behind.get("/").status_code == 200


@pytest.mark.parametrize("sent", [
    {},  # straight to gunicorn from this machine: no secret
    {PROXY_SECRET_HEADER: SECRET[:-1] + "0", PERSON_HEADER_NAME_HEADER: HEADER},
    {PROXY_SECRET_HEADER: SECRET[:8], PERSON_HEADER_NAME_HEADER: HEADER},
    {PROXY_SECRET_HEADER: SECRET + SECRET, PERSON_HEADER_NAME_HEADER: HEADER},
])
def test_the_header_from_this_machine_without_the_proxys_secret_names_nobody(proxy_app, sent):
    attacker = as_person(proxy_app(), "alice@example.com", from_nginx=sent)
    assert attacker.environ_base.get("REMOTE_ADDR", "127.0.0.1") == "127.0.0.1"
    response = attacker.get("/")
    assert response.status_code == 401 and "alice" not in response.get_data(as_text=True)


def test_a_site_that_replaces_another_header_than_the_apps_names_nobody(proxy_app, caplog):
    # The app believes Remote-Email, the site was rendered for X-Forwarded-Email:
    # a client's own Remote-Email would come through nginx untouched.
    app = proxy_app(auth_header="Remote-Email")
    client = as_person(app, "alice@example.com", header="Remote-Email")
    with caplog.at_level(logging.ERROR, logger="app.auth.proxy"):
        assert client.get("/").status_code == 401
    assert "render the site again" in caplog.text
    rendered_for_it = as_person(app, "alice@example.com", header="Remote-Email",
                                from_nginx={**FROM_NGINX, PERSON_HEADER_NAME_HEADER: "remote-email"})
    assert rendered_for_it.get("/").status_code == 200


@pytest.mark.parametrize("value", ["alice example", "a" * 256, "x\x01y"])
def test_a_malformed_header_names_nobody(proxy_app, value):
    client = as_person(proxy_app(), "placeholder")
    client.environ_base["HTTP_X_FORWARDED_EMAIL"] = value
    assert client.get("/").status_code == 401


def test_the_allow_lists_apply_behind_the_proxy_too(proxy_app):
    app = proxy_app(allowed_email_domains=("example.com",))
    assert as_person(app, "ann@example.com").get("/").status_code == 200
    response = as_person(app, "eve@evil.net").get("/")
    assert response.status_code == 403 and "eve@evil.net" in response.get_data(as_text=True)


def test_a_browsers_anonymous_conversations_are_offered_behind_the_proxy(make_app, proxy_app):
    before = make_app().test_client()
    before.get("/")
    url = before.post("/messages", data={"message": "From before"}).location.split("#")[0]
    app = proxy_app()
    alice = as_person(app, "alice@example.com")
    alice.set_cookie("session", before.get_cookie("session").value)
    page = alice.get("/").get_data(as_text=True)
    assert "This browser has 1 conversation from before you signed in" in page
    assert alice.get(url).status_code == 404
    alice.post("/claim")
    assert alice.get(url).status_code == 200


def test_sign_out_goes_to_the_proxys_own_sign_out(proxy_app):
    token = re.compile(r'name="csrf-token" content="([^"]+)"')
    alice = as_person(proxy_app(), "alice@example.com")
    csrf = token.search(alice.get("/").get_data(as_text=True)).group(1)
    assert alice.post("/sign-out", headers={"X-CSRF-Token": csrf}).location == "/oauth2/sign_out"
    other = as_person(proxy_app(auth_sign_out_url="https://auth.example.com/logout"), "alice@example.com")
    csrf = token.search(other.get("/").get_data(as_text=True)).group(1)
    assert other.post("/sign-out", headers={"X-CSRF-Token": csrf}).location == "https://auth.example.com/logout"


def test_a_removed_person_loses_their_conversations_at_once(proxy_app):
    app = proxy_app()
    alice = as_person(app, "alice@example.com")
    url = alice.post("/messages", data={"message": "Private"}).location.split("#")[0]
    with session_for(app) as db:
        remove_person(db, db.scalars(select(Person)).one())
    assert alice.get(url).status_code == 404
    assert "Private" not in alice.get("/").get_data(as_text=True)
