"""Followers in another process are woken by PostgreSQL's NOTIFY when an
answer moves on, instead of waiting for their next poll."""

import threading

from app.storage import answer_notices


def test_a_checkpoint_wakes_the_followers_of_that_answer_only(make_app, database_url):
    app = make_app()
    notices, engine = app.extensions["answer_notices"], app.extensions["db_engine"]
    if engine.dialect.name != "postgresql":
        assert notices.wait(1, 0.01) is False, "SQLite has no notices: followers poll"
        return
    notices.wait(1, 0.01)  # starts listening
    assert notices.listening.wait(30)
    woken = {}

    def follow(answer_id):
        woken[answer_id] = notices.wait(answer_id, 60)

    followers = [threading.Thread(target=follow, args=(answer_id,)) for answer_id in (1, 2)]
    for follower in followers:
        follower.start()
    while len(notices._waiting) < 2:
        threading.Event().wait(0.01)
    with engine.begin() as connection:
        answer_notices.announce(connection, 1)
    followers[0].join(30)
    assert woken == {1: True}, "the follower of answer 1 was woken; answer 2's still waits"
    with engine.begin() as connection:
        answer_notices.announce(connection, 2)
    followers[1].join(30)
    assert woken == {1: True, 2: True}
