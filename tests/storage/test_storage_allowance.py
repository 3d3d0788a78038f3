"""What one person may store (CHAT_STORAGE_PER_PERSON_MB): once their
conversations keep it, a new message is refused with a sentence saying to
delete old ones, on the page (the draft kept) and on the API; deleting a
conversation gives the room back."""

from sqlalchemy import create_engine, func, select, text

from app.storage.engine import resolve_database_url, session_for
from app.storage.models import Conversation, Message
from app.storage.storage_use import size_of, used_bytes
from tests.conftest import API_KEY, HTMX, api_client
from tests.page_flow import post, read_all, subscribe

QUESTION = "tell me everything " * 30  # 570 bytes, and an echo of as many
ALLOWANCE_MB = 0.001  # 1,000 bytes: one exchange takes it


def messages_kept(app):
    with session_for(app) as db:
        return db.scalar(select(func.count()).select_from(Message))


def test_a_person_over_the_allowance_is_refused_on_the_page_with_the_draft_kept(make_app):
    app = make_app(storage_per_person_mb=ALLOWANCE_MB)
    browser = app.test_client()
    browser.get("/")
    conversation_id, _answer_id, html = post(browser, "/messages", message=QUESTION)
    read_all(subscribe(browser, html))
    assert app.extensions["answer_tasks"].wait(timeout=30)
    kept = messages_kept(app)

    refused = browser.post("/messages", headers=HTMX, data={"message": "one more", "conversation_id": conversation_id})
    assert refused.status_code == 413
    assert "delete some old conversations" in refused.get_data(as_text=True)
    # Without JavaScript: the page again, the sentence by the box and the draft in it.
    page = browser.post("/messages", data={"message": "my draft", "conversation_id": conversation_id})
    assert page.status_code == 413
    body = page.get_data(as_text=True)
    assert "delete some old conversations" in body and ">my draft</textarea>" in body
    regenerate = browser.post(f"/c/{conversation_id}/regenerate", headers=HTMX)
    assert regenerate.status_code == 413
    assert messages_kept(app) == kept

    browser.post(f"/c/{conversation_id}/delete")
    assert browser.post("/messages", headers=HTMX, data={"message": "room again"}).status_code == 200


def test_a_program_over_the_allowance_is_refused_with_413(make_app):
    app = make_app(storage_per_person_mb=ALLOWANCE_MB, api_keys=(API_KEY,))
    program = api_client(app)
    first = program.post("/api/chat", json={"message": QUESTION, "conversation_id": "new"})
    assert first.status_code == 200
    kept = messages_kept(app)
    refused = program.post("/api/chat", json={"message": "more", "conversation_id": first.json["conversation_id"]})
    assert refused.status_code == 413
    assert "delete some old conversations" in refused.json["error"]
    assert program.post("/api/chat", json={"message": "more", "conversation_id": "new"}).status_code == 413
    assert messages_kept(app) == kept


def test_what_is_counted_is_what_is_kept(make_app):
    app = make_app()
    browser = app.test_client()
    browser.get("/")
    conversation_id, _answer_id, html = post(browser, "/messages", message="naïve ✓ " + QUESTION)
    read_all(subscribe(browser, html))
    conversation_id, _answer_id, html = post(browser, f"/c/{conversation_id}/regenerate")
    read_all(subscribe(browser, html))
    assert app.extensions["answer_tasks"].wait(timeout=30)
    with session_for(app) as db:
        conversation = db.get(Conversation, conversation_id)
        kept = sum(size_of(m.content, m.rendered, m.thoughts, m.grounding) for m in conversation.messages)
        assert len(conversation.messages) == 2 and kept > 2 * len(QUESTION)
        assert conversation.stored_bytes == kept
        with app.extensions["db_engine"].connect() as connection:
            assert used_bytes(connection, conversation.owner_id) == kept


def test_an_owners_total_is_read_from_the_index_not_the_messages(make_app, database_url):
    # Measured: 2.7 ms for 50,000 conversations on SQLite, where a SUM over
    # their 100,000 messages took 31 ms (app/storage/storage_use.py).
    make_app()
    engine = create_engine(resolve_database_url(database_url, None))
    rows = [{"id": f"c{i}", "owner": f"owner-{i % 50}", "bytes": 100} for i in range(5_000)]
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO conversations (id, owner_id, title, created_at, updated_at, stored_bytes) "
            "VALUES (:id, :owner, 't', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :bytes)"), rows)
    with engine.begin() as connection:
        assert used_bytes(connection, "owner-7") == 10_000
        query = "SELECT COALESCE(SUM(stored_bytes), 0) FROM conversations WHERE owner_id = 'owner-7'"
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row) for row in connection.execute(text("EXPLAIN QUERY PLAN " + query)))
            assert "COVERING INDEX ix_conversations_owner_id_stored_bytes" in plan
        else:
            connection.execute(text("ANALYZE conversations"))
            plan = " ".join(row[0] for row in connection.execute(text("EXPLAIN " + query)))
            # PostgreSQL may take either index that starts with the owner
            # (this one, or the sidebar's pages'): the owner's rows, never all.
            assert "Seq Scan" not in plan and "Index Cond: ((owner_id)" in plan
    engine.dispose()
