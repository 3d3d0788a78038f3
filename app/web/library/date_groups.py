"""The sidebar's date groups: Today, Yesterday, Previous 7 days, Previous 30
days, then one per month ("November 2026"), by a conversation's last
activity as a date in the person's time zone.

The zone is the browser's, sent in the `tz` cookie (static/sidebar.js sets
it on every page); without it (the very first page, no JavaScript, a name
this server does not know) the dates are UTC's.
"""

from datetime import timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TIME_ZONE_COOKIE = "tz"
PINNED = "Pinned"
TODAY = "Today"
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def zone_from(name):
    """The IANA zone called `name`, or UTC if it is not one."""
    if not name or len(name) > 64 or ".." in name or name.startswith("/"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return timezone.utc


def local_date(stamp, zone):
    """The date of `stamp` (naive UTC, as stored) in `zone`."""
    return stamp.replace(tzinfo=timezone.utc).astimezone(zone).date()


def group_of(stamp, now, zone):
    """The heading a conversation last active at `stamp` falls under, `now`
    (naive UTC) being the time of the page."""
    day = local_date(stamp, zone)
    today = local_date(now, zone)
    age = (today - day).days
    if age <= 0:  # today, or a clock a little ahead
        return TODAY
    if age == 1:
        return "Yesterday"
    if age <= 7:
        return "Previous 7 days"
    if age <= 30:
        return "Previous 30 days"
    return f"{_MONTHS[day.month - 1]} {day.year}"


def with_headings(conversations, now, zone, previous=None):
    """(heading or None, conversation) pairs: a heading before the first of
    each group, none before one that continues `previous` (the group the last
    page ended in)."""
    rows = []
    for conversation in conversations:
        group = group_of(conversation.updated_at, now, zone)
        rows.append((group if group != previous else None, conversation))
        previous = group
    return rows

