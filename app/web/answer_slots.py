"""Admitting a message whose answer is to be generated: its stream slot.

An answer counts against its client's and its address's streams
(CHAT_RATE_MAX_STREAMS, CHAT_RATE_ADDRESS_MAX_STREAMS) from the moment it is
asked for, not from when a reader subscribes: the slot is taken with the
message (app/web/rate_limits.py), handed to the saved answer, and freed where
the answer ends (app/answers/generation.py). Every route that starts an answer
admits it here: the page's send, Regenerate, Edit and no-script form, and the
API's.

A slot can outlive its answer only if the process that ended it died first.
So when a streams limit refuses, the slots are checked against the answers
they hold: those of answers that ended, were deleted, or whose generator died
(marked interrupted on the way) are freed, and the message is admitted again.
"""

from app.answers.generation import is_being_written
from app.web.rate_limits import RateLimited

STREAM_LIMITS = ("streams", "address-streams")


def admit_answer(app, key, address):
    """The StreamSlot of a message from client `key` at `address`, or RateLimited."""
    limiter = app.extensions["limiter"]
    try:
        return limiter.admit(key, address)
    except RateLimited as refused:
        if refused.limit not in STREAM_LIMITS or not free_ended_slots(app, key, address):
            raise
    return limiter.admit(key, address)


def free_ended_slots(app, key, address):
    """Free the slots of `key`'s and `address`'s answers that are no longer
    being written; how many were freed."""
    limiter = app.extensions["limiter"]
    freed = 0
    for answer_id in limiter.held_answers(key, address):
        if not is_being_written(app, answer_id):
            limiter.release_answer(answer_id)
            freed += 1
    return freed
