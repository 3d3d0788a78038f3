"""`python -m app.users`: the operator lists people with their usage, and
removes one with their conversations."""

import io
import subprocess
import sys

from sqlalchemy import select

from app.storage.engine import session_for
from app.storage.models import Conversation, Message, Person
from app.users import main
from tests.auth.conftest import sign_in
from tests.scripted_model import ScriptedChatModel


def run(monkeypatch, database_url, *argv):
    monkeypatch.setenv("DATABASE_URL", database_url)
    out = io.StringIO()
    status = main(list(argv), out=out)
    return status, out.getvalue()


def test_list_shows_each_person_with_answers_and_tokens(oidc_app, provider, database_url, monkeypatch):
    # Tokens as the model reports them: the report reads the billed calls.
    app = oidc_app(chat_model=ScriptedChatModel(pieces=["Sure."], finish_reason="STOP",
                                               usage={"input_tokens": 1200, "output_tokens": 34, "total_tokens": 1234}))
    alice = app.test_client()
    sign_in(alice, provider, "alice-sub", email="alice@example.com", name="Alice")
    alice.post("/messages", data={"message": "one"})
    alice.post("/messages", data={"message": "two"})
    sign_in(app.test_client(), provider, "bob-sub", email="bob@example.com", name="Bob")
    assert app.extensions["answer_tasks"].wait(timeout=30)
    status, out = run(monkeypatch, database_url, "list")
    assert status == 0
    header, *rows = out.splitlines()
    assert header.split()[:2] == ["id", "person"]
    alice_row = next(row for row in rows if "Alice" in row)
    assert "alice@example.com" in alice_row and provider.issuer in alice_row
    assert alice_row.split()[4:8] == ["2", "2", "2,400", "68"]
    bob_row = next(row for row in rows if "Bob" in row)
    assert bob_row.split()[4:8] == ["0", "0", "0", "0"]


def test_remove_takes_the_person_their_conversations_and_their_sessions(oidc_app, provider, database_url,
                                                                        monkeypatch):
    app = oidc_app()
    alice, bob = app.test_client(), app.test_client()
    sign_in(alice, provider, "alice@example.com")
    sign_in(bob, provider, "bob@example.com")
    alice.post("/messages", data={"message": "mine"})
    kept = bob.post("/messages", data={"message": "bob's"}).location.split("#")[0]
    assert app.extensions["answer_tasks"].wait(timeout=30)
    status, out = run(monkeypatch, database_url, "remove", "Alice@Example.com")
    assert status == 0 and "1 conversation(s)" in out
    assert alice.get("/").status_code == 303, "signed out at once"
    assert bob.get(kept).status_code == 200
    with session_for(app) as db:
        assert [p.email for p in db.scalars(select(Person))] == ["bob@example.com"]
        assert db.scalar(select(Conversation.title)) == "bob's"
        assert len(db.scalars(select(Message)).all()) == 2
    assert run(monkeypatch, database_url, "remove", "alice@example.com")[0] == 1


def test_nobody_yet(database_url, monkeypatch, make_app):
    make_app()  # a migrated database
    assert run(monkeypatch, database_url, "list") == (0, "Nobody has signed in yet.\n")


def test_it_is_a_module_to_run():
    result = subprocess.run([sys.executable, "-m", "app.users", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "remove" in result.stdout
