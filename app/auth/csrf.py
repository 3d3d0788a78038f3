"""CSRF protection for the page's state-changing requests.

Each session holds a random token. Plain forms carry it in a hidden field;
htmx requests carry it in the X-CSRF-Token header (static/chat.js adds it from
the page's <meta name="csrf-token">). The API is not covered: programs do not
use the page's cookies, and CHAT_API_KEYS protects it instead.
"""

import hmac
import secrets

from flask import request, session

from app.refusals import refusal_response

SESSION_KEY = "csrf"
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"


class CsrfFailure(Exception):
    status = 400
    message = "This page has expired. Reload it and try again."


def csrf_token():
    if SESSION_KEY not in session:
        session[SESSION_KEY] = secrets.token_urlsafe(32)
    return session[SESSION_KEY]


def check_csrf():
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get(SESSION_KEY)
    sent = request.headers.get(HEADER) or request.form.get(FIELD, "")
    if not expected or not hmac.compare_digest(expected, sent):
        raise CsrfFailure()


def guard_forms(blueprint):
    """Every state-changing request to `blueprint` must carry the page's
    token; without it (or with a stale one) it is refused with the page's
    sentence. Register after anything that must run first (the browser's
    owner, which keeps the token in the same session)."""
    blueprint.before_request(check_csrf)
    blueprint.register_error_handler(CsrfFailure, _expired_page)


def _expired_page(error):
    return refusal_response(error.status, error.message)
