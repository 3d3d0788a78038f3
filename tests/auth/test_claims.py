"""A browser's anonymous conversations from before sign-in: the first sign-in
offers to move them to the person, who may take them or leave them for now."""

import re

from flask.testing import FlaskClient

from tests.auth.conftest import sign_in
from tests.auth.test_proxy import as_person, proxy_app  # noqa: F401 (a fixture, with the proxy's settings)
from tests.conftest import HTMX


def anonymous_browser(make_app, *messages):
    """A browser that used the app before sign-in was turned on (CHAT_AUTH=none)."""
    browser = make_app().test_client()
    browser.get("/")
    urls = [browser.post("/messages", data={"message": text}).location.split("#")[0] for text in messages]
    return browser.get_cookie("session").value, urls


def same_browser(app, cookie):
    client = app.test_client()
    client.set_cookie("session", cookie)
    return client


def offer_of(page):
    found = re.search(r'<section class="claim-offer".*?</section>', page, re.S)
    return found.group(0) if found else None


def test_the_first_sign_in_offers_this_browsers_conversations_and_moves_them(make_app, oidc_app, provider):
    cookie, (first, second) = anonymous_browser(make_app, "Packing list", "Recipe ideas")
    app = oidc_app()
    browser = same_browser(app, cookie)
    sign_in(browser, provider, "alice@example.com")
    page = browser.get("/").get_data(as_text=True)
    assert "This browser has 2 conversations from before you signed in" in offer_of(page)
    assert "Packing list" not in page, "not theirs until they take them"
    assert browser.get(first).status_code == 404

    response = browser.post("/claim")
    assert response.status_code == 303
    page = browser.get("/").get_data(as_text=True)
    assert offer_of(page) is None
    assert "Packing list" in page and "Recipe ideas" in page
    assert browser.get(second).status_code == 200
    # and on any other device of theirs
    phone = app.test_client()
    sign_in(phone, provider, "alice@example.com")
    assert phone.get(first).status_code == 200


def test_not_now_hides_the_offer_until_the_next_sign_in(make_app, oidc_app, provider):
    cookie, (url,) = anonymous_browser(make_app, "Old notes")
    app = oidc_app()
    browser = same_browser(app, cookie)
    sign_in(browser, provider, "alice@example.com")
    assert browser.post("/claim/later").status_code == 303
    assert offer_of(browser.get("/").get_data(as_text=True)) is None
    token = re.search(r'name="csrf-token" content="([^"]+)"', browser.get("/").get_data(as_text=True)).group(1)
    browser.post("/sign-out", headers={"X-CSRF-Token": token})
    sign_in(browser, provider, "alice@example.com")
    assert "1 conversation from before" in offer_of(browser.get("/").get_data(as_text=True))


def test_claiming_is_a_form_with_the_pages_csrf_token(make_app, oidc_app, provider):
    cookie, (url,) = anonymous_browser(make_app, "Old notes")
    app = oidc_app()
    app.test_client_class = FlaskClient  # sends no token of its own
    browser = same_browser(app, cookie)
    sign_in(browser, provider, "alice@example.com")
    page = browser.get("/").get_data(as_text=True)
    assert 'name="csrf_token"' in offer_of(page)
    assert browser.post("/claim").status_code == 400
    assert browser.post("/claim", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert browser.get(url).status_code == 404, "nothing moved"


def test_a_browser_without_anonymous_conversations_is_offered_nothing(oidc_app, provider):
    browser = oidc_app().test_client()
    sign_in(browser, provider, "alice@example.com")
    assert offer_of(browser.get("/").get_data(as_text=True)) is None
    assert browser.post("/claim").status_code == 303


def test_claiming_needs_a_signed_in_person(make_app, oidc_app):
    cookie, (url,) = anonymous_browser(make_app, "Old notes")
    browser = same_browser(oidc_app(), cookie)
    assert browser.post("/claim", headers=HTMX).status_code == 401


def test_a_browsers_conversations_are_offered_only_to_the_first_person_who_signs_in_there(
        make_app, oidc_app, provider):
    """A shared computer: Alice used it before sign-in was turned on, signed in
    and out again (leaving her old conversations for later); Bob, next on that
    browser, was offered them and could take them."""
    cookie, (url,) = anonymous_browser(make_app, "Alice's private notes")
    app = oidc_app()
    browser = same_browser(app, cookie)
    sign_in(browser, provider, "alice@example.com")
    assert "1 conversation from before" in offer_of(browser.get("/").get_data(as_text=True))
    token = re.search(r'name="csrf-token" content="([^"]+)"', browser.get("/").get_data(as_text=True)).group(1)
    assert browser.post("/sign-out", headers={"X-CSRF-Token": token}).status_code == 303

    sign_in(browser, provider, "bob@example.com")
    page = browser.get("/").get_data(as_text=True)
    assert "Signed in as" in page and "bob@example.com" in page
    assert offer_of(page) is None
    assert browser.post("/claim").status_code == 303
    assert browser.get(url).status_code == 404, "Bob took nothing"

    # Nor once Bob has gone: the offer was Alice's, at her first sign-in here.
    sign_in(browser, provider, "carol@example.com")
    assert offer_of(browser.get("/").get_data(as_text=True)) is None
    browser.post("/claim")
    assert browser.get(url).status_code == 404


def test_signing_in_as_someone_else_without_signing_out_offers_them_nothing(make_app, oidc_app, provider):
    cookie, (url,) = anonymous_browser(make_app, "Alice's private notes")
    app = oidc_app()
    browser = same_browser(app, cookie)
    sign_in(browser, provider, "alice@example.com")
    sign_in(browser, provider, "bob@example.com")
    assert offer_of(browser.get("/").get_data(as_text=True)) is None
    browser.post("/claim")
    assert browser.get(url).status_code == 404


def test_behind_the_proxy_the_next_person_on_a_browser_is_offered_nothing(make_app, proxy_app):
    cookie, (url,) = anonymous_browser(make_app, "Alice's private notes")
    app = proxy_app()
    alice = as_person(app, "alice@example.com")
    alice.set_cookie("session", cookie)
    assert "1 conversation from before" in offer_of(alice.get("/").get_data(as_text=True))
    # The proxy signs Bob in on the same browser (the same cookie jar).
    bob = as_person(app, "bob@example.com")
    bob.set_cookie("session", alice.get_cookie("session").value)
    assert offer_of(bob.get("/").get_data(as_text=True)) is None
    bob.post("/claim")
    assert bob.get(url).status_code == 404
    assert as_person(app, "alice@example.com").get(url).status_code == 404, "still nobody's but the browser's"
