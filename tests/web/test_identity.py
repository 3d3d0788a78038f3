"""A browser's identity is never created or replaced by a write, and another
website's writes are refused before anything else sees them."""

import pytest
from flask.testing import FlaskClient

from sqlalchemy import func, select

from app.storage.engine import session_for
from app.storage.models import Conversation
from tests.conftest import HTMX

PAGE_WRITES = ["/messages", "/c/x/edit", "/c/x/regenerate", "/c/x/rename", "/c/x/delete", "/answers/1/stop"]


@pytest.mark.parametrize("url", PAGE_WRITES + ["/api/chat", "/api/chat/stream"])
@pytest.mark.parametrize("browser_says", [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
])
def test_a_write_from_another_site_is_refused_without_a_cookie(client, url, browser_says):
    client.get("/")
    response = client.post(url, data={"message": "planted", "conversation_id": "new"}, headers=browser_says)
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers
    assert "another website" in response.get_data(as_text=True)
    if url.startswith("/api/"):
        assert response.is_json


def test_writes_from_the_page_itself_pass(client):
    client.get("/")
    for browser_says in ({"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"}, {"Origin": "http://localhost"}):
        response = client.post("/messages", data={"message": "hi"}, headers=browser_says)
        assert response.status_code == 303, browser_says


@pytest.mark.parametrize("htmx", [True, False])
def test_a_write_without_the_session_cookie_mints_nothing(app, htmx):
    # What a cross-site form looked like before: no cookie at all (SameSite).
    app.test_client_class = FlaskClient  # no CSRF token either
    client = app.test_client()
    response = client.post("/messages", data={"message": "planted"}, headers=HTMX if htmx else {})
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers
    assert "cookie" in response.get_data(as_text=True)
    with session_for(app) as db:
        assert db.scalar(select(func.count()).select_from(Conversation)) == 0
