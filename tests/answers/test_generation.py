"""Answers generated apart from requests: claiming, Stop from any process, and
the reaper that marks an abandoned answer interrupted."""

import time
from datetime import timedelta

from app.answers.generation import ABANDONED_ERROR, claim_and_generate, generator_id, reap_if_abandoned
from app.storage import queries
from app.storage.engine import session_for
from app.storage.models import Message, utcnow
from tests.page_flow import post
from tests.scripted_model import ScriptedChatModel


def saved(app, answer_id):
    with session_for(app) as db:
        return queries.answer_progress(db, answer_id)


def set_columns(app, answer_id, **columns):
    with session_for(app) as db:
        answer = db.get(Message, answer_id)
        for name, value in columns.items():
            setattr(answer, name, value)
        db.commit()


def test_one_claim_starts_the_answer_and_a_second_finds_it_live(make_app):
    model = ScriptedChatModel(pieces=["a", "b"], delay=0.05)
    app = make_app(chat_model=model)
    _conversation_id, answer_id, _html = post(app.test_client(), "/messages", message="q")
    live = claim_and_generate(app, answer_id)
    assert live is not None and claim_and_generate(app, answer_id) is live
    assert saved(app, answer_id).generator == generator_id()
    assert app.extensions["answer_tasks"].wait(10)
    assert len(model.received) == 1, "the model was asked once"
    assert (saved(app, answer_id).content, saved(app, answer_id).outcome) == ("ab", "complete")
    assert claim_and_generate(app, answer_id) is None, "an ended answer is not generated again"


def test_an_answer_claimed_by_another_process_is_not_generated_here(make_app):
    model = ScriptedChatModel(pieces=["a"])
    app = make_app(chat_model=model)
    _conversation_id, answer_id, _html = post(app.test_client(), "/messages", message="q")
    with app.extensions["db_engine"].begin() as connection:
        assert queries.claim_answer(connection, answer_id, "elsewhere:tag:1", utcnow())
    assert claim_and_generate(app, answer_id) is None
    assert model.received == []


def test_a_generator_that_went_silent_is_reaped_and_a_live_one_is_not(make_app):
    app = make_app(checkpoint_seconds=0.1)  # silent for 20 periods, at least 10 s
    _conversation_id, answer_id, _html = post(app.test_client(), "/messages", message="q")
    set_columns(app, answer_id, content="kept so far", generator="another-host:tag:123", alive_at=utcnow())
    assert not reap_if_abandoned(app, answer_id, saved(app, answer_id))
    set_columns(app, answer_id, alive_at=utcnow() - timedelta(seconds=11))
    assert reap_if_abandoned(app, answer_id, saved(app, answer_id))
    progress = saved(app, answer_id)
    assert (progress.outcome, progress.content, progress.error) == ("interrupted", "kept so far", ABANDONED_ERROR)


def test_a_generator_process_that_died_on_this_machine_is_reaped_at_once(make_app):
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    app = make_app()
    _conversation_id, answer_id, _html = post(app.test_client(), "/messages", message="q")
    host = generator_id().rsplit(":", 2)[0]
    set_columns(app, answer_id, generator=f"{host}:tag:{dead_pid}", alive_at=utcnow())
    assert reap_if_abandoned(app, answer_id, saved(app, answer_id)), "its pid is gone: no need to wait"
    set_columns(app, answer_id, outcome="streaming", generator=generator_id(), alive_at=utcnow())
    assert not reap_if_abandoned(app, answer_id, saved(app, answer_id)), "this process is alive"


def test_an_answer_nobody_claimed_is_reaped_only_after_the_grace_period(make_app):
    app = make_app()
    _conversation_id, answer_id, _html = post(app.test_client(), "/messages", message="q")
    app.extensions["answer_tasks"].wait(0)  # cancel the claim the message scheduled
    assert not reap_if_abandoned(app, answer_id, saved(app, answer_id))
    set_columns(app, answer_id, created_at=utcnow() - timedelta(seconds=60))
    assert reap_if_abandoned(app, answer_id, saved(app, answer_id))


def test_a_message_nobody_subscribes_to_is_generated_by_the_process_that_took_it(make_app, monkeypatch):
    from app.answers import generation

    monkeypatch.setattr(generation, "CLAIM_GRACE_SECONDS", 0.05)
    model = ScriptedChatModel(pieces=["answered ", "anyway"])
    app = make_app(chat_model=model)
    _conversation_id, answer_id, _html = post(app.test_client(), "/messages", message="q")
    deadline = time.monotonic() + 10
    while saved(app, answer_id).outcome == "streaming" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (saved(app, answer_id).content, saved(app, answer_id).outcome) == ("answered anyway", "complete")
