"""Requests the app refuses before doing anything, each answered in words a
person or a program can act on: JSON on the API, the message next to the box
for htmx, and the app's own page otherwise.

A refusal never touches the session, so it never sends a cookie: a refused
request from another website must not replace the visitor's identity.
"""

from flask import jsonify, render_template, request

from app.operations.request_ids import current_request_id

# Werkzeug's texts speak to developers; these to the person.
PLAIN_WORDS = {
    404: "There is nothing here: this page or conversation does not exist, or it belongs to another browser or person.",
    405: "That address does not take this kind of request.",
}


# OpenAI's error shape (app/web/openai_api/errors.py), which a /v1 refusal takes.
_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}
_CODES = {401: "invalid_api_key", 404: "not_found", 429: "rate_limit_exceeded"}


def error_object(status, message, code=None, param=None):
    """The inner object; also what ends an event stream that failed."""
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"message": message, "type": kind, "param": param, "code": code or _CODES.get(status)}


class Refused(Exception):
    """A request turned away before any work, with a status and what to do."""

    def __init__(self, status, message, retry_after=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @property
    def headers(self):
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


def is_api_request():
    return request.path.startswith("/api/")


def is_openai_api_request():
    return request.path == "/v1" or request.path.startswith("/v1/")


def refusal_response(status, message, heading="Nothing was done"):
    """The refusal's body; it quotes the request id, so a report can be traced."""
    reference = current_request_id()
    if is_openai_api_request():
        # OpenAI's error shape, which its SDKs read (the id is in X-Request-Id).
        body = jsonify(error=error_object(status, message))
    elif is_api_request():
        body = jsonify(error=message, request_id=reference)
    elif request.headers.get("HX-Request") == "true":
        body = render_template("_composer_error.html", message=message, reference=reference)
    else:
        body = render_template("error.html", message=message, status=status, heading=heading, reference=reference)
    return body, status


def refused(error):
    return (*refusal_response(error.status, error.message), error.headers)


def too_large():
    """Werkzeug's 413 in words, with this request's limit (config.max_body_bytes,
    or more on the routes that take files)."""
    limit = request.max_content_length
    size = f"{limit / 1024 / 1024:,.1f} MiB" if limit >= 1024 * 1024 else f"{limit // 1024:,} KiB"
    return f"The request is too large: the limit is {size}."


def http_error(error):
    """Werkzeug's errors (404, 405, 413, a malformed request's 400) in the app's own words and page."""
    if error.code is None or error.code < 400:
        return error  # a redirect Werkzeug's routing asks for
    response = error.get_response()
    words = too_large() if error.code == 413 else PLAIN_WORDS.get(error.code, error.description)
    body, status = refusal_response(error.code, words, heading=error.name)
    return body, status, {k: v for k, v in response.headers.items() if k in ("Allow", "Retry-After")}
