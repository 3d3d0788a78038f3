"""CHAT_AUTH=proxy through the shipped nginx site, rendered with an
authenticating proxy in front (`--auth-proxy`): nginx asks a stand-in for
oauth2-proxy about every request (auth_request) and passes on the person it
names, never the header a client sent. The site is rendered from the app's own
settings (the header, the secret), and nothing that reaches gunicorn without
that site can name anyone."""

import re
import time
from pathlib import Path

import pytest
import requests

from deploy.stack import NGINX, gunicorn, nginx
from tests.conftest import HTMX, skip_or_fail
from tests.end_to_end.auth_standin import COOKIE, auth_standin

PROGRAM_KEY = "program-key-" + "7e" * 16
PROXY_MODE = {"CHAT_AUTH": "proxy", "CHAT_AUTH_HEADER": "X-Forwarded-Email", "CHAT_PROXY_HOPS": "1",
              "CHAT_AUTH_PROXY_SECRET": "e2e-proxy-secret-" + "5f" * 16, "CHAT_API_KEYS": PROGRAM_KEY}
# Authelia's name for the person (docs/sign-in.md).
RENAMED = {**PROXY_MODE, "CHAT_AUTH_HEADER": "Remote-Email"}


@pytest.fixture(autouse=True)
def needs_nginx():
    if not Path(NGINX).exists():
        skip_or_fail("nginx is not installed (apt-get install nginx)")


@pytest.fixture
def site(tmp_path):
    """gunicorn (CHAT_AUTH=proxy) behind nginx with the stand-in in front:
    (nginx's URL, the requests the stand-in saw)."""
    with auth_standin() as (standin_url, seen), gunicorn(tmp_path, PROXY_MODE) as (app_url, _log, _process):
        with nginx(tmp_path, [app_url], auth_proxy=standin_url, app_env=PROXY_MODE) as (url, _prefix):
            yield url, seen


def browser_signed_in_as(url, person):
    """A browser with the proxy's cookie, that has loaded the page (so it holds a CSRF token)."""
    browser = requests.Session()
    browser.cookies.set(COOKIE, person, domain="127.0.0.1", path="/")
    page = browser.get(url + "/", timeout=30)
    assert page.status_code == 200, page.text[:500]
    browser.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    return browser, page.text


def test_someone_the_proxy_has_not_signed_in_is_sent_to_its_sign_in(site):
    url, seen = site
    response = requests.get(url + "/c/abc?x=1", allow_redirects=False, timeout=30)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/oauth2/sign_in?rd=/c/abc?x=1")
    followed = requests.get(url + "/", timeout=30)
    assert "Stand-in proxy: sign in" in followed.text
    asked = [headers for path, headers in seen if path == "/oauth2/auth"]
    assert asked and asked[0]["X-Forwarded-Uri"] == "/c/abc?x=1"


def test_the_person_the_proxy_names_owns_the_page_and_a_clients_own_header_is_ignored(site):
    url, _seen = site
    alice, page = browser_signed_in_as(url, "alice@example.com")
    assert "Signed in as" in page and "alice@example.com" in page
    alice.headers["X-Forwarded-Email"] = "mallory@example.com"
    page = alice.get(url + "/", timeout=30).text
    assert "alice@example.com" in page and "mallory" not in page
    sent = alice.post(url + "/messages", data={"message": "Quarterly plan"}, allow_redirects=False, timeout=30)
    assert sent.status_code == 303
    conversation = url + sent.headers["Location"].split("#")[0]
    assert alice.get(conversation, timeout=30).status_code == 200
    bob, _page = browser_signed_in_as(url, "bob@example.com")
    assert bob.get(conversation, timeout=30).status_code == 404
    # Bob naming himself Alice changes nothing: nginx passes on what the proxy said.
    assert bob.get(conversation, headers={"X-Forwarded-Email": "alice@example.com"}, timeout=30).status_code == 404


def test_a_proxy_that_names_nobody_gets_the_apps_clear_refusal(site):
    url, _seen = site
    response = requests.get(url + "/", cookies={COOKIE: "nobody"},
                            headers={"X-Forwarded-Email": "alice@example.com"}, timeout=30)
    assert response.status_code == 401
    assert '<main class="error-page">' in response.text and "Not signed in" in response.text
    assert "X-Forwarded-Email" in response.text


def test_sign_out_ends_at_the_proxy(site):
    url, _seen = site
    alice, _page = browser_signed_in_as(url, "alice@example.com")
    response = alice.post(url + "/sign-out", allow_redirects=False, timeout=30)
    assert response.status_code == 303 and response.headers["Location"] == "/oauth2/sign_out"
    assert "Stand-in proxy: sign in" in alice.get(url + response.headers["Location"], timeout=30).text
    assert alice.get(url + "/", allow_redirects=False, timeout=30).status_code == 302


def test_programs_use_their_api_key_not_the_proxy(site):
    url, _seen = site
    assert requests.post(url + "/api/chat", json={"message": "hi"}, timeout=30).status_code == 401
    answered = requests.post(url + "/api/chat", json={"message": "hi"}, timeout=30,
                             headers={"Authorization": f"Bearer {PROGRAM_KEY}"})
    assert answered.status_code == 200 and answered.json()["reply"] == "hi"


def test_a_shared_link_opens_for_someone_the_proxy_has_not_signed_in(site):
    url, seen = site
    alice, _page = browser_signed_in_as(url, "alice@example.com")
    sent = alice.post(url + "/messages", data={"message": "Shared plan"}, allow_redirects=False, timeout=30)
    conversation = sent.headers["Location"].split("#")[0]
    deadline = time.monotonic() + 30
    while "outcome-streaming" in alice.get(url + conversation, timeout=30).text:  # a link waits for the answer
        assert time.monotonic() < deadline, "the answer did not end"
    shared = alice.post(url + conversation + "/share", allow_redirects=False, timeout=30)
    assert shared.status_code == 303
    page = alice.get(url + shared.headers["Location"], timeout=30).text
    link = re.search(r'class="share-url" value="([^"]+)"', page).group(1)
    path = "/" + link.split("/", 3)[3]
    asked_before = len(seen)
    response = requests.get(url + path, allow_redirects=False, timeout=30)  # no proxy cookie
    assert response.status_code == 200 and "Shared plan" in response.text
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert len(seen) == asked_before  # the proxy was not asked
    # Everything else still needs the proxy's sign-in.
    assert requests.get(url + "/shares", allow_redirects=False, timeout=30).status_code == 302


def test_the_site_without_a_sign_in_proxy_still_drops_a_clients_person_header(tmp_path):
    # Rendered as usual: nobody can name themselves to an app in proxy mode.
    with gunicorn(tmp_path, PROXY_MODE) as (app_url, _log, _process), nginx(tmp_path, [app_url]) as (url, _prefix):
        response = requests.get(url + "/", headers={"X-Forwarded-Email": "alice@example.com", **HTMX}, timeout=30)
        assert response.status_code == 401


def test_straight_to_gunicorn_from_this_machine_the_header_names_nobody(tmp_path):
    # Anything on the machine can connect to gunicorn from 127.0.0.1, which is
    # in CHAT_AUTH_PROXY_ADDRESSES: the header alone must not sign it in.
    with gunicorn(tmp_path, PROXY_MODE) as (app_url, log, _process):
        for guessed in ({}, {"X-Chat-Proxy-Secret": "x" * 40, "X-Chat-Proxy-Person-Header": "X-Forwarded-Email"}):
            response = requests.get(app_url + "/", timeout=30, headers={
                "X-Forwarded-Email": "alice@example.com", "X-Forwarded-For": "203.0.113.9", **guessed})
            assert response.status_code == 401 and "alice" not in response.text
        assert "without CHAT_AUTH_PROXY_SECRET" in log.read_text()


def test_a_renamed_header_is_the_one_the_site_replaces(tmp_path):
    with auth_standin() as (standin_url, _seen), gunicorn(tmp_path, RENAMED) as (app_url, _log, _process):
        with nginx(tmp_path, [app_url], auth_proxy=standin_url, app_env=RENAMED) as (url, prefix):
            assert "proxy_set_header Remote-Email $chat_person;" in (prefix / "nginx.conf").read_text()
            bob, page = browser_signed_in_as(url, "bob@example.com")
            assert "bob@example.com" in page
            as_alice = bob.get(url + "/", headers={"Remote-Email": "alice@example.com"}, timeout=30)
            assert as_alice.status_code == 200
            assert "bob@example.com" in as_alice.text and "alice" not in as_alice.text


def test_a_renamed_header_through_the_site_without_a_sign_in_proxy_names_nobody(tmp_path):
    with gunicorn(tmp_path, RENAMED) as (app_url, _log, _process), nginx(tmp_path, [app_url]) as (url, _prefix):
        response = requests.get(url + "/", headers={"Remote-Email": "alice@example.com", **HTMX}, timeout=30)
        assert response.status_code == 401 and "alice" not in response.text


def test_a_site_rendered_for_another_header_than_the_apps_names_nobody(tmp_path):
    # CHAT_AUTH_HEADER changed in the app's settings, the site not rendered again:
    # nginx replaces X-Forwarded-Email and passes a client's Remote-Email on.
    with auth_standin() as (standin_url, _seen), gunicorn(tmp_path, RENAMED) as (app_url, log, _process):
        with nginx(tmp_path, [app_url], auth_proxy=standin_url, app_env=PROXY_MODE) as (url, _prefix):
            response = requests.get(url + "/", cookies={COOKIE: "bob@example.com"},
                                    headers={"Remote-Email": "alice@example.com"}, timeout=30)
            assert response.status_code == 401 and "alice" not in response.text
            assert "render the site again" in log.read_text()
