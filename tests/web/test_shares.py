"""Read-only links to conversations (app/web/shares.py, app/web/shared_page.py):
the owner makes one, anyone with it reads the conversation as it was then,
and nothing else of the owner's; the owner lists and stops them; another
owner can do neither; files only if chosen, through the token."""

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.attachments.uploads import check_upload
from app.providers.grounding import Grounding, Source
from app.storage import attachment_store
from app.storage.engine import session_for
from app.storage.models import Conversation, Message, Share
from app.web import action_limits
from tests.attachments.files import has_gps, photo
from tests.attachments.test_attachment_routes import NOTES, answered, conversation_of, send_with_files
from tests.auth.test_proxy import VIA_PROXY, as_person, proxy_app  # noqa: F401 - the fixture
from tests.conftest import HTMX
from tests.page_flow import read_all, send, subscribe

NOINDEX = '<meta name="robots" content="noindex">'


def share(client, conversation_id, **choices):
    """Share as the Share panel's form does: the link shown on the page it lands on."""
    response = client.post(f"/c/{conversation_id}/share", data=choices)
    assert response.status_code == 303, response.get_data(as_text=True)
    share_id = re.search(r"shared=(\d+)", response.location).group(1)
    page = client.get(response.location).get_data(as_text=True)
    return int(share_id), shared_path(page, share_id)


def shared_path(page, share_id):
    url = re.search(rf'id="share-url-{share_id}" class="share-url" value="([^"]+)"', page).group(1)
    return "/" + url.split("/", 3)[3]


def visitor(app):
    """Another browser that has never been here."""
    return app.test_client()


def test_anyone_with_the_link_reads_the_transcript_and_nothing_else(app, client):
    conversation_id, _ = send(client, "What is a **tide**?")
    with session_for(app) as db:
        answer = db.scalars(select(Message).filter_by(conversation_id=conversation_id, role="assistant")).one()
        answer.content, answer.rendered = "The sea rises: $x^2$ and `code`.", None
        answer.thoughts = "The person asks about tides."
        answer.grounding = Grounding(sources=(Source(uri="https://example.org/tides", title="Tides",
                                                     domain="example.org"),)).to_json()
        answer.input_tokens, answer.output_tokens, answer.request_id = 12, 34, "req-secret-123"
        db.commit()
    _share_id, path = share(client, conversation_id)
    assert re.fullmatch(r"/s/[A-Za-z0-9_-]{43}", path)
    response = visitor(app).get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "What is a **tide**?" in page  # the question as typed
    assert "<math" in page and "<code>code</code>" in page  # the answer rendered
    assert 'href="https://example.org/tides"' in page  # its sources
    assert re.search(r'<details class="thinking" id="m-\d+-thinking">', page)  # folded
    # Nothing of the owner's: no composer, no sidebar, no account, no actions, no costs, no ids.
    for absent in ('id="composer"', "<textarea", "<nav", "csrf", "Regenerate", "Rename", "Delete", "Sign out",
                   "34 out", "req-secret-123", "<script"):
        assert absent not in page, absent
    assert NOINDEX in page
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers  # a visitor gets no session


def test_the_link_shows_the_conversation_as_it_was_when_shared(app, client):
    conversation_id, _ = send(client, "First question")
    _share_id, path = share(client, conversation_id)
    send(client, "Second question, private", conversation_id)
    page = visitor(app).get(path).get_data(as_text=True)
    assert "First question" in page
    assert "Second question" not in page
    # The owner's page says how much the link shows.
    owner_page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert "Link to the first 2 messages" in owner_page


def test_an_answer_being_written_is_left_out_and_before_the_first_there_is_nothing_to_share(app, client):
    conversation_id, _ = send(client, "Answered question")
    with session_for(app) as db:
        db.add_all([Message(conversation_id=conversation_id, role="user", content="Still asking"),
                    Message(conversation_id=conversation_id, role="assistant", content="Half an ans",
                            outcome="streaming")])
        db.commit()
    _share_id, path = share(client, conversation_id)
    page = visitor(app).get(path).get_data(as_text=True)
    assert "Answered question" in page and "Still asking" not in page and "Half an ans" not in page
    with session_for(app) as db:
        owner = db.get(Conversation, conversation_id).owner_id
        fresh = Conversation(owner_id=owner, title="Fresh")
        fresh.messages = [Message(role="user", content="q"), Message(role="assistant", content="", outcome="streaming")]
        db.add(fresh)
        db.commit()
        fresh_id = fresh.id
    response = client.post(f"/c/{fresh_id}/share")
    assert response.status_code == 409
    assert "nothing to share yet" in response.get_data(as_text=True)


def test_after_regenerate_the_link_shows_what_is_left_up_to_where_it_was_shared(app, client):
    conversation_id, _ = send(client, "Tell me a joke")
    _share_id, path = share(client, conversation_id)
    response = client.post(f"/c/{conversation_id}/regenerate", headers=HTMX)
    read_all(subscribe(client, response.get_data(as_text=True)))
    page = visitor(app).get(path).get_data(as_text=True)
    # The replaced answer is gone (deleted means gone), and the new one came after the link.
    assert "Tell me a joke" in page
    assert page.count('class="message assistant') == 0


def test_stop_sharing_makes_the_link_a_404_and_the_list_shows_only_the_owners(app, client):
    conversation_id, _ = send(client, "Shared then stopped")
    share_id, path = share(client, conversation_id)
    listing = client.get("/shares").get_data(as_text=True)
    assert "Shared then stopped" in listing and path in listing
    stranger = app.test_client()
    stranger.get("/")
    assert path not in stranger.get("/shares").get_data(as_text=True)
    # Another owner can neither stop it nor share the conversation.
    assert stranger.post(f"/shares/{share_id}/stop").status_code == 404
    assert stranger.post(f"/c/{conversation_id}/share").status_code == 404
    assert visitor(app).get(path).status_code == 200
    response = client.post(f"/shares/{share_id}/stop", data={"back": "list"})
    assert response.status_code == 303 and response.location.endswith("/shares")
    gone = visitor(app).get(path)
    assert gone.status_code == 404
    assert gone.headers["X-Robots-Tag"] == "noindex"
    assert "You share no conversations" in client.get("/shares").get_data(as_text=True)
    assert client.post(f"/shares/{share_id}/stop").status_code == 404  # once only


def test_stopping_from_the_conversation_goes_back_to_it(client):
    conversation_id, _ = send(client, "hello")
    share_id, _path = share(client, conversation_id)
    response = client.post(f"/shares/{share_id}/stop")
    assert response.status_code == 303
    assert f"/c/{conversation_id}?shared=stopped" in response.location
    assert "Sharing stopped" in client.get(response.location).get_data(as_text=True)


def test_deleting_the_conversation_removes_its_links(app, client):
    conversation_id, _ = send(client, "to be deleted")
    _share_id, path = share(client, conversation_id)
    share(client, conversation_id)
    client.post(f"/c/{conversation_id}/delete")
    assert visitor(app).get(path).status_code == 404
    with session_for(app) as db:
        assert db.scalar(select(func.count()).select_from(Share)) == 0


def test_unknown_and_malformed_links_are_404s(app):
    for path in ("/s/" + "A" * 43, "/s/short", "/s/" + "A" * 44, "/s/" + "A" * 43 + "/files/1"):
        assert visitor(app).get(path).status_code == 404, path


def test_the_owners_actions_need_the_pages_csrf_token(app, client):
    conversation_id, _ = send(client, "csrf")
    share_id, _path = share(client, conversation_id)
    with client.session_transaction() as session:
        owner = session["owner"]
    bare = FlaskClient(app, app.response_class, use_cookies=True)  # sends no token
    with bare.session_transaction() as session:
        session["owner"] = owner  # the owner's browser, without the page's token
    assert bare.post(f"/c/{conversation_id}/share").status_code == 400
    assert bare.post(f"/shares/{share_id}/stop").status_code == 400
    cross_site = client.post(f"/c/{conversation_id}/share", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross_site.status_code == 403


def test_making_links_is_rate_limited_and_stopping_is_not(make_app, monkeypatch):
    monkeypatch.setattr(action_limits, "SHARE_LINKS", action_limits.HourlyAction("share", 2, "Two links an hour."))
    app = make_app(rate_messages_per_minute=1000)
    client = app.test_client()
    conversation_id, _ = send(client, "limited")
    first, _ = share(client, conversation_id)
    share(client, conversation_id)
    refused = client.post(f"/c/{conversation_id}/share")
    assert refused.status_code == 429
    assert "Two links an hour." in refused.get_data(as_text=True)
    assert int(refused.headers["Retry-After"]) > 3000
    assert client.post(f"/shares/{first}/stop").status_code == 303


def test_files_are_left_out_unless_chosen_and_then_served_only_through_the_token(make_app):
    app = make_app()
    owner = app.test_client()
    html, _stream = answered(owner, send_with_files(owner, "Read my notes", [("notes.txt", NOTES)]))
    conversation_id = conversation_of(html)
    [link] = [int(i) for i in re.findall(r'href="/attachments/(\d+)"', html)]
    _id, without = share(owner, conversation_id)
    page = visitor(app).get(without).get_data(as_text=True)
    # (The fake model echoes what it read, so the answer quotes the file: the question shows no chip.)
    assert "1 attached file, not shared" in page and 'class="attachment-chip"' not in page
    assert visitor(app).get(f"{without}/files/{link}").status_code == 404
    _id, with_files = share(owner, conversation_id, attachments="1")
    page = visitor(app).get(with_files).get_data(as_text=True)
    assert f'href="{with_files}/files/{link}" download' in page and "notes.txt" in page
    assert "/attachments/" not in page  # never the owner's own routes
    served = visitor(app).get(f"{with_files}/files/{link}")
    assert served.status_code == 200 and served.data == NOTES
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["Referrer-Policy"] == "no-referrer"
    # A file sent after the link was made is not the link's to serve.
    later_html, _ = answered(owner, send_with_files(owner, "More notes", [("later.txt", b"later\n")], conversation_id))
    [later] = [int(i) for i in re.findall(r'href="/attachments/(\d+)"', later_html)]
    assert visitor(app).get(f"{with_files}/files/{later}").status_code == 404
    assert visitor(app).get(f"/attachments/{link}").status_code == 404  # still the owner's only


def test_a_shared_image_is_shown_as_a_thumbnail_and_served_without_its_gps_position(make_app):
    app = make_app()
    owner = app.test_client()
    conversation_id, _ = send(owner, "Look at this")
    config = app.config["CHAT"]
    upload = check_upload(config, "holiday.jpg", photo(), offline=False)
    with session_for(app) as db:
        conversation = db.get(Conversation, conversation_id)
        question = conversation.messages[0]
        with app.extensions["db_engine"].begin() as connection:
            [image] = attachment_store.attach(connection, conversation.owner_id, conversation_id, question.id, [upload])
    _id, path = share(owner, conversation_id, attachments="1")
    page = visitor(app).get(path).get_data(as_text=True)
    assert f'<img src="{path}/files/{image.id}/thumbnail" alt="holiday.jpg"' in page
    thumbnail = visitor(app).get(f"{path}/files/{image.id}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.mimetype.startswith("image/")
    full = visitor(app).get(f"{path}/files/{image.id}")
    assert full.status_code == 200 and full.headers["Content-Disposition"].startswith("inline")
    assert not has_gps(full.data)


def test_the_owners_name_is_shown_only_if_chosen(proxy_app):  # noqa: F811
    app = proxy_app()
    alice = as_person(app, "alice@example.com")
    url = alice.post("/messages", data={"message": "Team notes"}).location.split("#")[0]
    conversation_id = url.rsplit("/", 1)[1]
    app.extensions["answer_tasks"].wait(timeout=30)
    assert "Show my name" in alice.get(url).get_data(as_text=True)
    _id, anonymous = share(alice, conversation_id)
    _id, named = share(alice, conversation_id, show_name="1")
    nobody = app.test_client()  # no person: the proxy let the link through
    page = nobody.get(anonymous, headers=VIA_PROXY).get_data(as_text=True)
    assert "Team notes" in page and "alice" not in page.lower()
    page = nobody.get(named, headers=VIA_PROXY).get_data(as_text=True)
    assert 'shared by <strong class="shared-by">alice@example.com</strong>' in page
    # Bob, signed in, reads it too, and can neither stop it nor see it among his links.
    bob = as_person(app, "bob@example.com")
    assert bob.get(named).status_code == 200
    assert named not in bob.get("/shares").get_data(as_text=True)
    # The owner's routes need the person, as the page does.
    assert nobody.get("/shares", headers=VIA_PROXY).status_code == 401
    assert nobody.post(f"/c/{conversation_id}/share", headers=VIA_PROXY).status_code in (401, 403)


def test_without_sign_in_there_is_no_name_to_show(client):
    conversation_id, _ = send(client, "anonymous")
    page = client.get(f"/c/{conversation_id}").get_data(as_text=True)
    assert "Include images and files" in page and "Show my name" not in page


def test_removing_a_person_removes_their_links(proxy_app):  # noqa: F811
    from app.auth.people import person_with_email, remove_person

    app = proxy_app()
    alice = as_person(app, "alice@example.com")
    url = alice.post("/messages", data={"message": "Soon gone"}).location.split("#")[0]
    app.extensions["answer_tasks"].wait(timeout=30)
    _id, path = share(alice, url.rsplit("/", 1)[1])
    with session_for(app) as db:
        remove_person(db, person_with_email(db, "alice@example.com"))
    assert app.test_client().get(path, headers=VIA_PROXY).status_code == 404


@pytest.mark.parametrize("form", [{}, {"show_name": "1", "attachments": "1"}])
def test_a_shared_conversation_shows_what_the_links_say(client, form):
    conversation_id, _ = send(client, "options")
    share_id, _path = share(client, conversation_id, **form)
    page = client.get(f"/c/{conversation_id}?shared={share_id}").get_data(as_text=True)
    assert '<details class="share" id="share" open>' in page
    assert ("with files" in page) == bool(form)
    assert "showing your name" not in page  # no name without sign-in, whatever the form says
    assert "Make another link" in page

