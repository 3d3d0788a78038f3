"""Deleting conversations while one of their answers is being saved: the
delete takes the conversations' row locks before their messages', in the
order an ending answer takes them (queries.save_answer: its conversation,
then its message), so PostgreSQL never has to abort one as a deadlock.
(The CI run that found it: test_removing_a_person_ends_their_sessions_at_once
failed once on PostgreSQL, an operator's removal racing the answer's end.)"""

import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from app.auth.people import owner_of, person_signing_in, remove_person
from app.storage import queries
from app.storage.engine import session_for
from app.storage.models import Conversation, Message, Person
from app.storage.owner_data import delete_owner_content


def a_conversation_with_an_answer_being_written(app):
    with session_for(app) as db:
        person = person_signing_in(db, "proxy", "alice@example.com", "alice@example.com", "Alice")
        conversation = Conversation(owner_id=owner_of(person), title="t")
        db.add(conversation)
        db.flush()
        db.add(Message(conversation_id=conversation.id, role="user", content="q"))
        answer = Message(conversation_id=conversation.id, role="assistant", content="", outcome="streaming")
        db.add(answer)
        db.commit()
        return person.id, conversation.id, answer.id


def wait_until_a_delete_waits_for_a_lock(engine, deadline_seconds=60):
    # A connection of its own, outside the app's pool: the deleter needs one
    # of the pool's, and the saving transaction holds another.
    watching = create_engine(engine.url, poolclass=NullPool)
    deadline = time.monotonic() + deadline_seconds
    with watching.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%conversations%'"
                " AND datname = current_database()")).scalar()
            if waiting:
                watching.dispose()
                return
            # A transaction sees one snapshot of pg_stat_activity (PostgreSQL
            # caches the statistics it read until the transaction ends): end
            # it, or a wait that starts after the first look is never seen.
            watcher.rollback()
            time.sleep(0.02)
    raise AssertionError("the delete never waited for the answer's lock")


@pytest.mark.parametrize("delete", ["remove the person", "delete the conversation", "delete all their data"])
def test_a_delete_while_the_answer_is_saved_waits_instead_of_deadlocking(make_app, database_url, delete):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time and no row locks")
    app = make_app()
    engine = app.extensions["db_engine"]
    person_id, conversation_id, answer_id = a_conversation_with_an_answer_being_written(app)
    errors = []

    def deleting():
        try:
            with session_for(app) as db:
                if delete == "remove the person":
                    remove_person(db, db.get(Person, person_id))
                elif delete == "delete all their data":
                    delete_owner_content(db, owner_of(db.get(Person, person_id)))
                    db.commit()
                else:
                    queries.delete_conversation(db, db.get(Conversation, conversation_id))
        except Exception as error:  # noqa: BLE001 - the assertion below shows it
            errors.append(error)

    with engine.connect() as saving:
        saving_transaction = saving.begin()
        # The answer's end, as save_answer orders it: first its conversation...
        saving.execute(text("UPDATE conversations SET stored_bytes = stored_bytes WHERE id = :c"), {"c": conversation_id})
        deleter = threading.Thread(target=deleting)
        deleter.start()
        wait_until_a_delete_waits_for_a_lock(engine)
        # ...then its message, which a delete holding the messages first would hold.
        saving.execute(text("UPDATE messages SET content = 'done' WHERE id = :a"), {"a": answer_id})
        saving_transaction.commit()
    deleter.join(timeout=60)
    assert not deleter.is_alive() and errors == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM messages WHERE id = :a"), {"a": answer_id}).scalar() == 0
