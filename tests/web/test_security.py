"""CSRF, API keys, secrets and security headers."""

import pytest
from flask.testing import FlaskClient

from app.config import ConfigError, load_config
from tests.conftest import HTMX


def plain_client(app):
    """A client that does NOT send the CSRF token, like a forged cross-site form."""
    app.test_client_class = FlaskClient
    return app.test_client()


def test_page_posts_without_the_csrf_token_are_refused(app):
    client = plain_client(app)
    client.get("/")
    for url in ("/messages", "/c/x/rename", "/c/x/delete", "/c/x/regenerate", "/answers/1/stop"):
        response = client.post(url, data={"message": "hi"}, headers=HTMX)
        assert response.status_code == 400, url
        assert b"Reload it and try again" in response.data


def test_a_wrong_csrf_token_is_refused(app):
    client = plain_client(app)
    client.get("/")
    response = client.post("/messages", data={"message": "hi", "csrf_token": "guess"})
    assert response.status_code == 400


def test_the_token_in_the_form_or_the_header_is_accepted(app):
    client = plain_client(app)
    page = client.get("/").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    assert f'name="csrf_token" value="{token}"' in page, "the plain form carries it too"
    assert client.post("/messages", data={"message": "hi", "csrf_token": token}).status_code == 303
    assert client.post("/messages", data={"message": "hi"}, headers={"X-CSRF-Token": token}).status_code == 303


def test_the_api_needs_no_csrf_token(app):
    assert plain_client(app).post("/api/chat", json={"message": "hi"}).json == {"reply": "hi"}


def test_api_keys_when_configured(make_app):
    client = plain_client(make_app(api_keys=("k-one", "k-two")))
    assert client.post("/api/chat", json={"message": "hi"}).status_code == 401
    assert client.post("/api/chat", json={"message": "hi"}, headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = client.post("/api/chat", json={"message": "hi", "conversation_id": "new"},
                     headers={"Authorization": "Bearer k-two"})
    assert ok.status_code == 200
    conversation_id = ok.json["conversation_id"]
    # the conversation belongs to the key, not to a cookie
    other = plain_client(make_app(api_keys=("k-one", "k-two")))
    again = other.post("/api/chat", json={"message": "more", "conversation_id": conversation_id},
                       headers={"Authorization": "Bearer k-two"})
    assert again.status_code == 200
    stranger = other.post("/api/chat", json={"message": "more", "conversation_id": conversation_id},
                          headers={"Authorization": "Bearer k-one"})
    assert stranger.status_code == 404


@pytest.mark.parametrize("key", ["", "dev", "changeme", "short"])
def test_production_refuses_a_missing_or_default_secret_key(key):
    with pytest.raises(ConfigError, match="SECRET_KEY must be set"):
        load_config({"CHAT_PROVIDER": "fake", "SECRET_KEY": key})


def test_debug_runs_without_a_secret_key():
    assert load_config({"CHAT_PROVIDER": "fake", "CHAT_DEBUG": "1"}).secret_key


def test_security_headers_and_cookie_flags(make_app):
    client = make_app(secure_cookies=True).test_client()
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_the_session_cookie_is_renewed_once_a_day_not_on_every_request(app, monkeypatch):
    from app.web import identity

    now = [1_800_000_000.0]
    monkeypatch.setattr(identity.time, "time", lambda: now[0])
    client = app.test_client()
    assert "Set-Cookie" in client.get("/").headers  # a new browser gets its owner id
    assert "Set-Cookie" not in client.get("/").headers
    now[0] += identity.SECONDS_PER_DAY
    renewed = client.get("/").headers.get("Set-Cookie", "")
    assert "Expires=" in renewed  # sent again, so its 31 days start again
    assert "Set-Cookie" not in client.get("/").headers
