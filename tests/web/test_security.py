"""CSRF, API keys, secrets and security headers."""

import pytest
from flask.testing import FlaskClient

from app.config import ConfigError, load_config
from tests.conftest import HTMX

KEY_ONE, KEY_TWO = "key-one-" + "1" * 32, "key-two-" + "2" * 32


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
    assert plain_client(app).post("/api/chat", json={"message": "hi"}).json["reply"] == "hi"


def test_api_keys_when_configured(make_app):
    client = plain_client(make_app(api_keys=(KEY_ONE, KEY_TWO)))
    assert client.post("/api/chat", json={"message": "hi"}).status_code == 401
    assert client.post("/api/chat", json={"message": "hi"}, headers={"Authorization": "Bearer nope"}).status_code == 401
    ok = client.post("/api/chat", json={"message": "hi", "conversation_id": "new"},
                     headers={"Authorization": f"Bearer {KEY_TWO}"})
    assert ok.status_code == 200
    conversation_id = ok.json["conversation_id"]
    # the conversation belongs to the key, not to a cookie
    other = plain_client(make_app(api_keys=(KEY_ONE, KEY_TWO)))
    again = other.post("/api/chat", json={"message": "more", "conversation_id": conversation_id},
                       headers={"Authorization": f"Bearer {KEY_TWO}"})
    assert again.status_code == 200
    stranger = other.post("/api/chat", json={"message": "more", "conversation_id": conversation_id},
                          headers={"Authorization": f"Bearer {KEY_ONE}"})
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


def test_the_cookie_is_secure_whenever_the_page_came_over_https(make_app):
    # Behind nginx terminating TLS, with no CHAT_SECURE_COOKIES in the config.
    client = make_app(proxy_hops=1).test_client()
    over_https = client.get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert "Secure" in over_https.headers["Set-Cookie"]
    over_http = make_app(proxy_hops=1).test_client().get("/", headers={"X-Forwarded-Proto": "http"})
    assert "Secure" not in over_http.headers["Set-Cookie"]


def test_only_the_allowed_host_names_are_answered(make_app, caplog):
    client = make_app().test_client()
    assert client.get("/", headers={"Host": "localhost:5000"}).status_code == 200
    assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200
    rebound = client.get("/", headers={"Host": "attacker.example"})
    assert rebound.status_code == 400 and "Set-Cookie" not in rebound.headers
    assert "CHAT_ALLOWED_HOSTS" in caplog.text
    named = make_app(allowed_hosts=("chat.example.com", ".corp.example")).test_client()
    assert named.get("/", headers={"Host": "chat.example.com"}).status_code == 200
    assert named.get("/", headers={"Host": "team.corp.example"}).status_code == 200
    assert named.get("/", headers={"Host": "localhost"}).status_code == 400
    assert make_app(allowed_hosts=("*",)).test_client().get("/", headers={"Host": "any.example"}).status_code == 200


def test_allowed_hosts_are_read_from_the_environment():
    config = load_config({"CHAT_PROVIDER": "fake", "CHAT_DEBUG": "1", "CHAT_ALLOWED_HOSTS": " chat.example.com, .corp "})
    assert config.allowed_hosts == ("chat.example.com", ".corp")
    assert load_config({"CHAT_PROVIDER": "fake", "CHAT_DEBUG": "1"}).allowed_hosts == ("localhost", "127.0.0.1")


def test_pages_are_never_cached_and_images_only_come_from_here(client):
    conversation_page = client.get("/")
    assert conversation_page.headers["Cache-Control"] == "no-store"
    assert "data:" not in conversation_page.headers["Content-Security-Policy"]
    asset = client.get(conversation_page.get_data(as_text=True).split('rel="stylesheet" href="', 1)[1].split('"', 1)[0])
    assert asset.headers.get("Cache-Control") != "no-store"


def test_the_database_and_its_folder_are_private(tmp_path, make_app):
    from app.storage.engine import resolve_database_url

    instance = tmp_path / "instance"
    resolve_database_url("", str(instance))
    assert instance.stat().st_mode & 0o777 == 0o700
    database = tmp_path / "private.sqlite3"
    app = make_app(database_url=f"sqlite:///{database}", rate_messages_per_minute=5,
                   rate_limit_file=str(tmp_path / "limits" / "rl.sqlite3"))
    app.test_client().post("/api/chat", json={"message": "hi"})
    assert database.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "limits" / "rl.sqlite3").stat().st_mode & 0o777 == 0o600


def test_a_proxy_in_front_with_no_hops_set_is_reported_once(make_app, caplog):
    client = make_app().test_client()
    for _ in range(3):
        client.get("/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert caplog.text.count("CHAT_PROXY_HOPS=0") == 1
    caplog.clear()
    make_app(proxy_hops=1).test_client().get("/", headers={"X-Forwarded-For": "203.0.113.9"})
    assert "CHAT_PROXY_HOPS" not in caplog.text
