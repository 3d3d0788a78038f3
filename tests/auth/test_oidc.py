"""Signing in with an OpenID Connect provider (a real one, oidc-provider-mock),
through the Flask test client: the protocol's checks, sessions, sign-out."""

import base64
import hashlib
import logging
import re

import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import select

from app.auth.csrf import HEADER
from app.auth.people import owner_of, remove_person
from app.storage.engine import session_for
from app.storage.models import Person, SignIn
from tests.attachments.test_attachment_routes import attachment_links, send_with_files
from tests.auth.conftest import query_of, sign_in, start_sign_in
from tests.conftest import HTMX


def csrf_of(page):
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def test_a_page_without_sign_in_sends_the_person_to_sign_in_and_back(oidc_app, provider):
    client = oidc_app().test_client()
    response = client.get("/c/some-conversation")
    assert response.status_code == 303
    assert response.location == "/sign-in?next=/c/some-conversation"
    page = client.get(response.location).get_data(as_text=True)
    assert "Sign in with localhost" in page and 'href="/sign-in/start?next=/c/some-conversation"' in page


def test_sign_in_uses_pkce_state_and_nonce_and_shows_who_signed_in(oidc_app, provider):
    client = oidc_app().test_client()
    authorization_url = start_sign_in(client, "/")
    asked = query_of(authorization_url)
    assert authorization_url.startswith(f"{provider.issuer}/oauth2/authorize?")
    assert asked["response_type"] == "code" and asked["client_id"] == "chat-tests"
    assert asked["code_challenge_method"] == "S256" and asked["state"] and asked["nonce"]
    assert set(asked["scope"].split()) == {"openid", "email", "profile"}
    assert asked["redirect_uri"] == "http://localhost/sign-in/callback"

    provider.set_person("alice-sub", email="alice@example.com", name="Alice Example", email_verified=True)
    response = client.get(provider.authorize(authorization_url, "alice-sub"))
    assert response.status_code == 303 and response.location == "/"

    # PKCE: the code was redeemed with the verifier whose hash the app sent first.
    (token_request,) = provider.seen("/oauth2/token")
    verifier = query_of("?" + token_request[3].decode())["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert digest == asked["code_challenge"]
    page = client.get("/").get_data(as_text=True)
    assert "Signed in as" in page and "Alice Example" in page and 'title="alice@example.com"' in page
    assert "Sign out" in page


def test_a_callback_whose_state_this_browser_never_sent_is_refused(oidc_app, provider):
    app = oidc_app()
    victim = app.test_client()
    attacker = app.test_client()
    provider.set_person("mallory", email="mallory@example.com")
    # The attacker's own code, sent to a victim's browser (login CSRF).
    forged = provider.authorize(start_sign_in(attacker), "mallory")
    response = victim.get(forged)
    assert response.status_code == 400
    assert "did not complete" in response.get_data(as_text=True)
    assert victim.get("/").status_code == 303, "the victim is not signed in as the attacker"


def test_a_code_from_one_sign_in_attempt_cannot_complete_another(oidc_app, provider):
    # Its ID token carries the first attempt's nonce, which the second does not accept.
    client = oidc_app().test_client()
    provider.set_person("alice", email="alice@example.com")
    first = start_sign_in(client)
    second = start_sign_in(client)
    back = provider.authorize(first, "alice")
    swapped = back.replace(query_of(first)["state"], query_of(second)["state"])
    response = client.get(swapped)
    assert response.status_code == 502
    assert "did not verify" in response.get_data(as_text=True)
    assert client.get("/").status_code == 303


def test_an_id_token_that_does_not_match_the_providers_keys_is_refused(oidc_app, provider):
    client = oidc_app().test_client()
    provider.corrupt_id_tokens = True
    response = sign_in(client, provider, "alice@example.com")
    assert response.status_code == 502
    assert "did not verify" in response.get_data(as_text=True)
    assert client.get("/").status_code == 303


def test_a_person_who_declines_at_the_provider_is_told_and_not_signed_in(oidc_app, provider):
    client = oidc_app().test_client()
    denied = requests.post(start_sign_in(client), data={"action": "deny"}, allow_redirects=False, timeout=10)
    response = client.get(denied.headers["Location"])
    assert response.status_code == 400
    assert "did not let you in" in response.get_data(as_text=True)
    assert client.get("/").status_code == 303


def test_an_error_callback_shows_a_fixed_sentence_and_logs_the_words_escaped(oidc_app, provider, caplog):
    """Anyone can craft /sign-in/callback?error=...&error_description=...: its
    words must not appear on the site's page, nor forge lines in the log."""
    caplog.set_level(logging.INFO, logger="app.auth.oidc")
    client = oidc_app().test_client()
    response = client.get("/sign-in/callback", query_string={
        "error": "server_error", "error_description": "Call +1-800-SCAM now\nFORGED log line"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Signing in did not complete. Try again." in page
    assert "SCAM" not in page and "FORGED" not in page
    assert "SCAM" in caplog.text and "\nFORGED" not in caplog.text


def test_a_person_is_their_issuer_and_subject_whatever_their_email_becomes(oidc_app, provider):
    app = oidc_app()
    sign_in(app.test_client(), provider, "sub-1", email="old@example.com", name="Ann")
    sign_in(app.test_client(), provider, "sub-1", email="new@example.com", name="Ann B.")
    with session_for(app) as db:
        (person,) = db.scalars(select(Person)).all()
    assert (person.issuer, person.subject, person.email, person.name) == (
        provider.issuer, "sub-1", "new@example.com", "Ann B.")


def test_the_session_is_rotated_at_sign_in(oidc_app, provider):
    app = oidc_app()
    client = app.test_client()
    before_page = client.get("/sign-in").get_data(as_text=True)
    cookie_before = client.get_cookie("session").value
    sign_in(client, provider, "alice@example.com")
    with client.session_transaction() as session:
        assert "csrf" not in session, "the old CSRF token is gone"
        assert not any(key.startswith("_state_") for key in session), "Authlib's state is gone"
    assert csrf_of(client.get("/").get_data(as_text=True)) != csrf_of(before_page)
    # A copy of the cookie from before (planted, or sniffed) signs nobody in.
    planted = app.test_client()
    planted.set_cookie("session", cookie_before)
    assert planted.get("/").status_code == 303


def test_sign_out_ends_the_session_and_every_copy_of_its_cookie(oidc_app, provider):
    app = oidc_app()
    client = app.test_client()
    sign_in(client, provider, "alice@example.com")
    copied = app.test_client()
    copied.set_cookie("session", client.get_cookie("session").value)
    assert copied.get("/").status_code == 200
    token = csrf_of(client.get("/").get_data(as_text=True))
    response = client.post("/sign-out", headers={HEADER: token})
    assert response.status_code == 303 and response.location == "/sign-in?signed_out=1"
    assert "You have signed out" in client.get(response.location).get_data(as_text=True)
    assert client.get("/").status_code == 303
    assert copied.get("/").status_code == 303, "the copied cookie stopped working at once"
    with session_for(app) as db:
        assert db.scalars(select(SignIn)).all() == []


def test_sign_out_needs_the_pages_csrf_token(oidc_app, provider):
    app = oidc_app()
    app.test_client_class = FlaskClient  # sends no token of its own
    client = app.test_client()
    sign_in(client, provider, "alice@example.com")
    assert client.post("/sign-out").status_code == 400
    assert client.get("/").status_code == 200, "still signed in"


def test_removing_a_person_ends_their_sessions_at_once(oidc_app, provider):
    app = oidc_app()
    client = app.test_client()
    sign_in(client, provider, "alice@example.com")
    assert client.post("/messages", data={"message": "hello"}).status_code == 303
    with session_for(app) as db:
        person = db.scalars(select(Person)).one()
        assert remove_person(db, person) == 1
    assert client.get("/").status_code == 303


def test_conversations_follow_the_person_and_nobody_else_sees_them(oidc_app, provider):
    app = oidc_app()
    laptop, phone, bob = app.test_client(), app.test_client(), app.test_client()
    sign_in(laptop, provider, "alice@example.com")
    where = laptop.post("/messages", data={"message": "Notes for my trip"}).location
    conversation_url = where.split("#")[0]
    sign_in(phone, provider, "alice@example.com")
    assert "Notes for my trip" in phone.get("/").get_data(as_text=True)
    assert phone.get(conversation_url).status_code == 200
    sign_in(bob, provider, "bob@example.com")
    assert bob.get(conversation_url).status_code == 404
    assert "Notes for my trip" not in bob.get("/").get_data(as_text=True)
    assert bob.post(conversation_url + "/delete").status_code == 404


def test_a_signed_out_htmx_request_is_told_not_redirected(oidc_app, provider):
    client = oidc_app().test_client()
    response = client.get("/answers/1/events", headers=HTMX)
    assert response.status_code == 401
    assert "not signed in" in response.get_data(as_text=True)


def test_after_sign_in_the_person_returns_to_the_page_they_asked_for_but_never_elsewhere(oidc_app, provider):
    client = oidc_app().test_client()
    assert sign_in(client, provider, "a@example.com", next_path="/c/abc?x=1").location == "/c/abc?x=1"
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        other = oidc_app().test_client()
        assert sign_in(other, provider, "a@example.com", next_path=elsewhere).location == "/"


def test_the_cookie_is_secure_when_signing_in_over_https(oidc_app, provider):
    client = oidc_app().test_client()
    response = sign_in(client, provider, "alice@example.com", base_url="https://localhost")
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]


def test_a_people_owner_is_what_the_page_uses(oidc_app, provider):
    app = oidc_app()
    client = app.test_client()
    sign_in(client, provider, "alice@example.com")
    with session_for(app) as db:
        person = db.scalars(select(Person)).one()
    with client.session_transaction() as session:
        assert session["owner"] == owner_of(person)


def test_a_person_outside_the_allow_lists_gets_a_clear_page_and_no_session(oidc_app, provider):
    app = oidc_app(allowed_email_domains=("example.com",), allowed_emails=("guest@partner.net",))
    for allowed in ("ann@example.com", "guest@partner.net"):
        client = app.test_client()
        assert sign_in(client, provider, allowed).status_code == 303
        assert client.get("/").status_code == 200
    outsider = app.test_client()
    response = sign_in(outsider, provider, "eve@evil.net", name="Eve")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Not allowed here" in page and "You are signed in as Eve" in page and "Ask them to add you" in page
    assert outsider.get("/").status_code == 303


def test_an_email_the_provider_has_not_verified_does_not_pass_the_allow_lists(oidc_app, provider):
    app = oidc_app(allowed_email_domains=("example.com",))
    client = app.test_client()
    assert sign_in(client, provider, "ann@example.com", email_verified=False).status_code == 403


@pytest.mark.parametrize("not_verified", ["false", "False", 0, "0", "no", "", None, [], {"verified": True}])
def test_only_true_says_an_email_is_verified(oidc_app, provider, not_verified):
    """A provider's "false" as a string (or 0, "no"...) once signed in as if verified."""
    app = oidc_app(allowed_email_domains=("example.com",))
    assert sign_in(app.test_client(), provider, "ann@example.com", email_verified=not_verified).status_code == 403
    for verified in (True, "true", "True"):
        assert sign_in(app.test_client(), provider, "ann@example.com", email_verified=verified).status_code == 303


def test_a_look_alike_email_from_the_provider_does_not_pass_the_allow_lists(oidc_app, provider):
    """U+212A KELVIN SIGN, which `str.lower()` turns into "k"."""
    app = oidc_app(allowed_email_domains=("kernel.org",))
    assert sign_in(app.test_client(), provider, "ann@\u212Aernel.org", email_verified=True).status_code == 403
    assert sign_in(app.test_client(), provider, "Ann@Kernel.org", email_verified=True).status_code == 303


def test_pressing_sign_in_again_and_again_keeps_the_cookie_small(oidc_app, provider):
    client = oidc_app().test_client()
    for _ in range(30):
        start_sign_in(client)
    with client.session_transaction() as session:
        assert len([key for key in session if key.startswith("_state_")]) == 2
    assert len(client.get_cookie("session").value) < 2000


def test_a_provider_that_cannot_be_reached_is_reported_not_waited_for(make_app):
    from deploy.stack import free_port

    app = make_app(auth="oidc", oidc_issuer=f"http://127.0.0.1:{free_port()}", oidc_client_id="chat")
    response = app.test_client().get("/sign-in/start")
    assert response.status_code == 502
    assert "could not be reached" in response.get_data(as_text=True)


def test_a_provider_that_claims_to_be_another_issuer_is_not_used(oidc_app, provider):
    provider.claimed_issuer = "https://accounts.example.com"
    response = oidc_app().test_client().get("/sign-in/start")
    assert response.status_code == 502
    assert "not the one this chat is set up for" in response.get_data(as_text=True)


def test_a_person_taken_off_the_allow_lists_is_signed_out_at_their_next_request(oidc_app, provider):
    """The allow-lists were checked only at the callback: a session begun
    while a domain was listed outlived its removal."""
    app = oidc_app(allowed_email_domains=("example.com",))
    client = app.test_client()
    sign_in(client, provider, "ann@example.com", name="Ann")
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("session").value

    # The operator drops the domain and restarts the app; the browser keeps its cookie.
    restarted = oidc_app(allowed_email_domains=("example.org",))
    same_browser = restarted.test_client()
    same_browser.set_cookie("session", cookie)
    response = same_browser.get("/c/abc")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "no longer open to you" in page and "ann@example.com" in page
    assert 'href="/sign-in/start?next=/c/abc"' in page, "a sign-in page, to sign in as someone allowed"
    with session_for(restarted) as db:
        assert db.scalars(select(SignIn)).all() == [], "the sign-in itself ended"
    assert same_browser.get("/").status_code == 303, "signed out: the next page asks for a sign-in"
    # Any other copy of the cookie is refused too, and the page's own requests are told why.
    copied = restarted.test_client()
    copied.set_cookie("session", cookie)
    assert copied.post("/messages", data={"message": "x"}, headers=HTMX).status_code == 401


def test_a_person_taken_off_the_allow_lists_cannot_act_with_their_open_page(oidc_app, provider):
    app = oidc_app(allowed_emails=("ann@example.com",))
    client = app.test_client()
    sign_in(client, provider, "ann@example.com")
    cookie = client.get_cookie("session").value
    restarted = oidc_app(allowed_emails=("bob@example.com",))
    same_browser = restarted.test_client()
    same_browser.set_cookie("session", cookie)
    response = same_browser.post("/messages", data={"message": "still here?"}, headers=HTMX)
    assert response.status_code == 403
    assert "no longer open to you" in response.get_data(as_text=True)
    with session_for(restarted) as db:
        assert db.scalars(select(SignIn)).all() == []


def test_a_person_taken_off_the_allow_lists_cannot_fetch_their_files_either(oidc_app, provider):
    """The file routes were not behind the sign-in gate: a removed person's
    cookie still downloaded what they had attached."""
    app = oidc_app(allowed_emails=("ann@example.com",))
    client = app.test_client()
    sign_in(client, provider, "ann@example.com")
    token = csrf_of(client.get("/").get_data(as_text=True))
    sent = send_with_files(client, "Keep this", [("notes.txt", b"private notes")], headers={**HTMX, HEADER: token})
    [file_id] = attachment_links(sent.get_data(as_text=True))
    assert client.get(f"/attachments/{file_id}").data == b"private notes"
    cookie = client.get_cookie("session").value
    restarted = oidc_app(allowed_emails=("bob@example.com",))
    same_browser = restarted.test_client()
    same_browser.set_cookie("session", cookie)
    refused = same_browser.get(f"/attachments/{file_id}")
    assert refused.status_code == 403 and b"private notes" not in refused.data
