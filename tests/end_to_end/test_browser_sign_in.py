"""Signing in with an OpenID Connect provider, in Chromium, against a real
gunicorn and a real provider (oidc-provider-mock, started by the test): the
conversations follow the person to another browser, another person gets
404, the browser's anonymous conversations are taken over, and sign-out ends it."""

from contextlib import contextmanager

import pytest

from deploy.stack import free_port, gunicorn
from tests.auth.oidc_provider import running_provider
from tests.end_to_end.conftest import ARTIFACTS, Watched, send

FAKE = {"CHAT_FAKE_CHUNKS": "4", "CHAT_FAKE_CHUNK_MS": "20"}


@contextmanager
def browser_context(browser):
    """A browser of its own (its own cookies): a Watched page that fails the
    test on a page error. The provider's page asks a CDN for its stylesheet,
    which this closed network cannot reach: it gets an empty one."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.fulfill(status=200, content_type="text/css", body=""))
    try:
        watched = Watched(context.new_page())
        yield watched
        assert watched.errors == []
    finally:
        context.close()


def sign_in_at_provider(page, sub):
    """From the app's sign-in page, through the provider's form, back to the app."""
    page.get_by_role("link", name="Sign in with localhost").click()
    page.get_by_placeholder("sub").fill(sub)
    page.get_by_role("button", name="Authorize").click()
    page.locator(".account").wait_for()


def answered(page, text):
    send(page, text)
    page.locator(".message.assistant.outcome-complete").last.wait_for()
    return page.url


@pytest.fixture
def provider():
    with running_provider() as provider:
        provider.set_person("alice", email="alice@example.com", name="Alice Liddell", email_verified=True)
        provider.set_person("bob", email="bob@example.com", name="Bob", email_verified=True)
        yield provider


def test_a_person_signs_in_takes_their_browsers_conversations_along_and_signs_out(browser, provider, tmp_path):
    port = free_port()
    client_id, secret = provider.register_client(f"http://127.0.0.1:{port}/sign-in/callback")
    oidc = {**FAKE, "CHAT_AUTH": "oidc", "CHAT_OIDC_ISSUER": provider.issuer, "CHAT_OIDC_CLIENT_ID": client_id,
            "CHAT_OIDC_CLIENT_SECRET": secret}
    with browser_context(browser) as laptop:
        # Before sign-in was turned on, this browser had a conversation of its own.
        with gunicorn(tmp_path, FAKE) as (anonymous_url, _log, _process):
            laptop.page.goto(anonymous_url + "/")
            from_before = answered(laptop.page, "What did I ask before signing in?")

        with gunicorn(tmp_path, oidc, port=port) as (url, _log, _process):
            laptop.page.goto(url + "/")
            assert "/sign-in" in laptop.page.url
            sign_in_at_provider(laptop.page, "alice")
            assert laptop.page.url == url + "/"
            assert laptop.page.locator(".account").inner_text().startswith("Signed in as Alice Liddell")
            offer = laptop.page.locator(".claim-offer")
            assert "This browser has 1 conversation from before you signed in" in offer.inner_text()
            ARTIFACTS.mkdir(exist_ok=True)
            laptop.page.screenshot(path=str(ARTIFACTS / "sign-in-offer.png"))
            offer.get_by_role("button", name="Move to my account").click()
            laptop.page.locator("#conversation-list a", has_text="What did I ask before").wait_for()
            assert laptop.page.locator(".claim-offer").count() == 0
            mine = answered(laptop.page, "Plans for the weekend")

            # Another device: sign in once, and everything is there.
            with browser_context(browser) as phone:
                phone.page.goto(url + "/")
                sign_in_at_provider(phone.page, "alice")
                titles = phone.page.locator("#conversation-list").inner_text()
                assert "Plans for the weekend" in titles and "What did I ask before" in titles
                phone.page.goto(mine)
                assert "Plans for the weekend" in phone.page.locator("#transcript").inner_text()
                assert phone.page.locator(".claim-offer").count() == 0, "that browser had nothing of its own"

            # Another person: not a trace of them.
            bob_context = browser.new_context()
            try:
                bob = bob_context.new_page()
                bob_context.route("https://cdn.jsdelivr.net/**",
                                  lambda route: route.fulfill(status=200, content_type="text/css", body=""))
                bob.goto(url + "/")
                sign_in_at_provider(bob, "bob")
                assert bob.locator("#conversation-list li.conversation-item").count() == 0
                for address in (mine, from_before.replace(anonymous_url, url)):
                    assert bob.goto(address).status == 404
            finally:
                bob_context.close()

            laptop.page.get_by_role("button", name="Sign out").click()
            laptop.page.get_by_text("You have signed out").wait_for()
            laptop.page.goto(mine)
            assert "/sign-in" in laptop.page.url, "signed out: the conversation asks for a sign-in again"
