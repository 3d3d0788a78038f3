"""CHAT_AUTH=proxy through the shipped nginx site, rendered with an
authenticating proxy in front (`--auth-proxy`): nginx asks a stand-in for
oauth2-proxy about every request (auth_request) and passes on the person it
names, never the header a client sent."""

import re
from pathlib import Path

import pytest
import requests

from deploy.stack import NGINX, gunicorn, nginx
from tests.conftest import HTMX, skip_or_fail
from tests.end_to_end.auth_standin import COOKIE, auth_standin

PROXY_MODE = {"CHAT_AUTH": "proxy", "CHAT_AUTH_HEADER": "X-Forwarded-Email", "CHAT_PROXY_HOPS": "1",
              "CHAT_API_KEYS": "program-key"}


@pytest.fixture(autouse=True)
def needs_nginx():
    if not Path(NGINX).exists():
        skip_or_fail("nginx is not installed (apt-get install nginx)")


@pytest.fixture
def site(tmp_path):
    """gunicorn (CHAT_AUTH=proxy) behind nginx with the stand-in in front:
    (nginx's URL, the requests the stand-in saw)."""
    with auth_standin() as (standin_url, seen), gunicorn(tmp_path, PROXY_MODE) as (app_url, _log, _process):
        with nginx(tmp_path, [app_url], auth_proxy=standin_url) as (url, _prefix):
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
                             headers={"Authorization": "Bearer program-key"})
    assert answered.status_code == 200 and answered.json()["reply"] == "hi"


def test_the_site_without_a_sign_in_proxy_still_drops_a_clients_person_header(tmp_path):
    # Rendered as usual: nobody can name themselves to an app in proxy mode.
    with gunicorn(tmp_path, PROXY_MODE) as (app_url, _log, _process), nginx(tmp_path, [app_url]) as (url, _prefix):
        response = requests.get(url + "/", headers={"X-Forwarded-Email": "alice@example.com", **HTMX}, timeout=30)
        assert response.status_code == 401
