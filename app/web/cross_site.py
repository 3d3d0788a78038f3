"""Refusing state-changing requests that another website makes the browser send.

The CSRF token already stops a forged form from doing anything, but a
refused request could still carry effects of its own (a new session cookie
replacing the visitor's, once). So a cross-site POST is turned away before
any other code sees it, from what the browser itself says about where the
request comes from: `Sec-Fetch-Site` (every current browser), else `Origin`.
A request with neither (curl, a program) is not a browser's and passes on to
the usual checks (CSRF token, API key).
"""

from urllib.parse import urlsplit

from flask import request

from app.refusals import Refused

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# "none": the person typed the address or used a bookmark.
TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})

FROM_ANOTHER_SITE = "This request came from another website, so it was refused and nothing was changed."


def comes_from_another_site():
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in TRUSTED_FETCH_SITES
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    # By host name only: behind a proxy the Host header may have lost the
    # port and the scheme (another port of the same host is the same site).
    return urlsplit(origin).hostname != urlsplit(f"//{request.host}").hostname


def refuse_cross_site_writes():
    if request.method not in SAFE_METHODS and comes_from_another_site():
        raise Refused(403, FROM_ANOTHER_SITE)
