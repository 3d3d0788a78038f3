"""With sign-in on, search, paging and exports are the signed-in person's,
and refused to a request without a person, as the page is."""

import json

from tests.auth.test_proxy import VIA_PROXY, as_person, proxy_app  # noqa: F401 - the fixture
from tests.conftest import HTMX


def test_the_library_routes_follow_the_signed_in_person(proxy_app):  # noqa: F811
    app = proxy_app()
    alice = as_person(app, "alice@example.com")
    url = alice.post("/messages", data={"message": "Wombat burrows"}).location.split("#")[0]
    conversation_id = url.rsplit("/", 1)[1]
    app.extensions["answer_tasks"].wait(timeout=30)
    laptop = as_person(app, "alice@example.com")  # another browser of hers
    assert conversation_id in laptop.get("/search?q=wombat", headers=HTMX).get_data(as_text=True)
    assert laptop.get(f"/c/{conversation_id}/export.md").status_code == 200
    assert [c["id"] for c in json.loads(laptop.get("/export/conversations.json").get_data())["conversations"]] == [
        conversation_id]
    bob = as_person(app, "bob@example.com")
    assert conversation_id not in bob.get("/search?q=wombat", headers=HTMX).get_data(as_text=True)
    assert bob.get(f"/c/{conversation_id}/export.md").status_code == 404
    assert json.loads(bob.get("/export/conversations.json").get_data())["conversations"] == []
    # The account area offers the export of everything.
    assert 'href="/export/conversations.json" download>Export all conversations</a>' in laptop.get("/").get_data(
        as_text=True)


def test_without_a_person_every_library_route_is_refused(proxy_app):  # noqa: F811
    client = proxy_app().test_client()
    for path in ("/search?q=x", "/conversations", "/c/abc/export.md", "/export/conversations.json"):
        assert client.get(path, headers=VIA_PROXY).status_code == 401, path


def test_your_data_is_the_signed_in_persons_and_refused_without_one(proxy_app):  # noqa: F811
    import io

    app = proxy_app()
    alice = as_person(app, "alice@example.com")
    alice.post("/messages", data={"message": "Wombat burrows"})
    app.extensions["answer_tasks"].wait(timeout=30)
    assert 'href="/account/data">Your data</a>' in alice.get("/").get_data(as_text=True)
    exported = alice.get("/export/conversations.json?files=include").get_data()
    bob = as_person(app, "bob@example.com")
    imported = bob.post("/account/data/import", data={"file": (io.BytesIO(exported), "e.json")},
                        content_type="multipart/form-data")
    assert imported.status_code == 303 and "imported=1" in imported.location
    assert alice.post("/account/data/delete", data={"confirm": "DELETE"}).status_code == 303
    assert json.loads(alice.get("/export/conversations.json").get_data())["conversations"] == []
    assert [c["title"] for c in json.loads(bob.get("/export/conversations.json").get_data())["conversations"]] == [
        "Wombat burrows"]
    client = app.test_client()
    assert client.get("/account/data", headers=VIA_PROXY).status_code == 401
