"""How many readers may follow answers at once (GET /answers/<id>/events and
its no-script twin, /progressive).

A reader costs nothing to open and holds a connection, a greenlet and a
follower of the answer until the answer ends (up to CHAT_ANSWER_MAX_SECONDS).
One person's one answer, opened a few thousand times from a few dozen
addresses and never read, would take every connection a worker has and stop
the site for everyone. So readers are counted three ways, and one over any
bound is refused with 429 before it costs more:

- per answer: tabs and devices showing the same answer;
- per person (the answer's owner): every answer they are following;
- per network (an IPv4 address, an IPv6 /64: app/web/network_prefix.py),
  whoever the readers say they are.

The counts are rows of the rate limits' table (app/web/rate_limits.py), in the
same store, so they hold across workers (and app servers, with
CHAT_RATE_LIMIT_STORE=database); a reader's rows go when it ends, and rows of a
process killed while they were open expire with the streams' own
(STREAM_TTL_SECONDS). Readers that stop reading are dropped by nginx's
send_timeout (deploy/nginx.conf); this bounds the ones that do read.
With every CHAT_RATE_* limit at 0 (load tests) readers are not counted either.
"""

from datetime import timedelta

from app.storage import driver_sql
from app.storage.models import utcnow
from app.web.network_prefix import network_of
from app.web.rate_limits import STREAM_TTL_SECONDS, RateLimited

# A person with the answer open in a few tabs on two or three devices.
READERS_PER_ANSWER = 10
# Every answer one person follows: at most CHAT_RATE_MAX_STREAMS are being
# written at once, each shown in a few tabs.
READERS_PER_PERSON = 24
# A household or an office behind one address: ten people at the person's bound.
READERS_PER_NETWORK = 64
# How long a refused reader should wait: the bounds free up as answers end.
RETRY_AFTER_SECONDS = 10

_ADD = "INSERT INTO rate_events (key, kind, at, address) VALUES (:key, :kind, :now, :address) RETURNING id"
_COUNTS = """
    SELECT
        SUM(CASE WHEN kind = 'reader-answer' AND key = :answer THEN 1 ELSE 0 END),
        SUM(CASE WHEN kind = 'reader' AND key = :owner THEN 1 ELSE 0 END),
        SUM(CASE WHEN kind = 'reader' AND address = :network THEN 1 ELSE 0 END)
    FROM rate_events
    WHERE ((kind = 'reader-answer' AND key = :answer)
           OR (kind = 'reader' AND (key = :owner OR address = :network)))
      AND at > :since"""
_REMOVE = "DELETE FROM rate_events WHERE id IN (:answer_row, :reader_row)"

_REFUSALS = (
    (READERS_PER_ANSWER, "answer",
     "This answer is open in too many windows at once ({limit}). Close some of them; "
     "this one will try again by itself."),
    (READERS_PER_PERSON, "person",
     "You are following too many answers at once ({limit} windows). Close some of them; "
     "this one will try again by itself."),
    (READERS_PER_NETWORK, "network",
     "Too many answers are open from your network address at once ({limit}). "
     "This one will try again by itself."),
)


class TooManyReaders(RateLimited):
    """A reader over one of the bounds; `limit` is readers-answer, -person or -network."""


def take_reader(limiter, answer_id, owner, address):
    """Count a reader of `answer_id` (owned by `owner`) from `address`, or raise
    TooManyReaders. Returns the release() its stream must call when it ends."""
    if limiter.engine is None or not limiter.limits.any:
        return _nothing
    now = utcnow()
    answer, network = f"answer:{answer_id}", network_of(address)
    # Written first, counted after, in one transaction (as admissions are):
    # on SQLite the write takes the lock, so two readers arriving together
    # cannot both be the last one allowed. Over a bound the rows roll back.
    with limiter.engine.begin() as connection:
        at = driver_sql.timestamp(connection, now)
        answer_row = driver_sql.run(connection, _ADD, {
            "key": answer, "kind": "reader-answer", "now": at, "address": network})
        reader_row = driver_sql.run(connection, _ADD, {
            "key": owner, "kind": "reader", "now": at, "address": network})
        counts = driver_sql.rows(connection, _COUNTS, {
            "answer": answer, "owner": owner, "network": network,
            "since": driver_sql.timestamp(connection, now - timedelta(seconds=STREAM_TTL_SECONDS)),
        })[0]
        for count, (limit, name, sentence) in zip(counts, _REFUSALS):
            if (count or 0) > limit:
                raise TooManyReaders(RETRY_AFTER_SECONDS, sentence.format(limit=limit), f"readers-{name}")

    def release():
        with limiter.engine.begin() as connection:
            driver_sql.run(connection, _REMOVE, {"answer_row": answer_row, "reader_row": reader_row})
    return release


def _nothing():
    pass
