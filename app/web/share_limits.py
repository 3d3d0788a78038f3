"""How many read-only links one owner may make in an hour.

A link is a row and a way into a conversation; a script in a stolen session
(or a runaway loop) must not make thousands. The count is rows of the rate
limits' table (app/web/rate_limits.py), so it holds across workers, and with
every CHAT_RATE_* limit at 0 (load tests) links are not counted either, as
readers are not (app/web/event_stream_limits.py). Stopping a link is never
limited: a person taking a link back must not be told to wait.
"""

from datetime import timedelta

from app.storage import driver_sql
from app.storage.models import utcnow
from app.web.network_prefix import network_of
from app.web.rate_limits import RateLimited, _seconds_left

# Far above a person sharing by hand; a script is stopped within the hour.
LINKS_PER_HOUR = 30
WINDOW = timedelta(hours=1)

_ADD = "INSERT INTO rate_events (key, kind, at, address) VALUES (:key, 'share', :now, :address)"
_COUNT = "SELECT COUNT(*), MIN(at) FROM rate_events WHERE key = :key AND kind = 'share' AND at > :window"


def admit_share(limiter, owner, address):
    """Count a new link of `owner`'s, or raise RateLimited (429)."""
    if limiter.engine is None or not limiter.limits.any:
        return
    now = utcnow()
    # Written first, counted after, in one transaction (as admissions are):
    # two links asked for together cannot both be the last one allowed.
    with limiter.engine.begin() as connection:
        driver_sql.run(connection, _ADD, {"key": owner, "now": driver_sql.timestamp(connection, now),
                                          "address": network_of(address)})
        made, oldest = driver_sql.rows(connection, _COUNT, {
            "key": owner, "window": driver_sql.timestamp(connection, now - WINDOW)})[0]
        if made > LINKS_PER_HOUR:
            raise RateLimited(_seconds_left(WINDOW.total_seconds(), now, oldest),
                              f"You made {LINKS_PER_HOUR} share links in the last hour. "
                              "Please wait a while before making another.", "shares")

