"""How often one owner may take a heavy action in an hour: import an export
file, delete everything, or make a read-only link to a conversation.

Each is a single request doing much work (a whole file read and saved in one
transaction; every row of a person's deleted) or leaving a way in (a share
link), so a script in a stolen session or a runaway loop is stopped within
the hour, far above what a person does by hand. The counts are rows of the rate limits' table
(app/web/rate_limits.py), so they hold across workers; with every CHAT_RATE_*
limit at 0 (load tests) they are not counted either.
"""

from dataclasses import dataclass
from datetime import timedelta

from app.storage import driver_sql
from app.storage.models import utcnow
from app.web.network_prefix import network_of
from app.web.rate_limits import RateLimited, _seconds_left

WINDOW = timedelta(hours=1)

_ADD = "INSERT INTO rate_events (key, kind, at, address) VALUES (:key, :kind, :now, :address)"
_COUNT = "SELECT COUNT(*), MIN(at) FROM rate_events WHERE key = :key AND kind = :kind AND at > :window"


@dataclass(frozen=True)
class HourlyAction:
    kind: str  # the rate_events row's kind, and the metrics' label
    per_hour: int
    refusal: str  # what the person is told past the limit


IMPORTS = HourlyAction("import", 20, "You imported 20 files in the last hour. Please wait a while before "
                                     "importing another.")
# Stopping a link is never counted: a person taking one back must not wait.
SHARE_LINKS = HourlyAction("share", 30, "You made 30 share links in the last hour. Please wait a while before "
                                        "making another.")
DELETE_ALL = HourlyAction("delete-all", 10, "You deleted all your data 10 times in the last hour. Please wait "
                                            "a while before doing it again.")


def admit_action(limiter, action, owner, address):
    """Count `owner`'s `action` (an HourlyAction), or raise RateLimited (429)."""
    if limiter.engine is None or not limiter.limits.any:
        return
    now = utcnow()
    # Written first, counted after, in one transaction (as admissions are):
    # two requests together cannot both be the last one allowed.
    with limiter.engine.begin() as connection:
        driver_sql.run(connection, _ADD, {"key": owner, "kind": action.kind, "address": network_of(address),
                                          "now": driver_sql.timestamp(connection, now)})
        made, oldest = driver_sql.rows(connection, _COUNT, {
            "key": owner, "kind": action.kind, "window": driver_sql.timestamp(connection, now - WINDOW)})[0]
        if made > action.per_hour:
            raise RateLimited(_seconds_left(WINDOW.total_seconds(), now, oldest), action.refusal, action.kind)
