"""A request id for every request: nginx's (`X-Request-Id`, its $request_id)
if it sent a sane one, else made here. It is in the response's headers,
every log line of the request and of the answer it starts (log_context.py),
and the error a person sees ("reference: ..."), so a report can be traced.
"""

import re
import secrets

from flask import request

from app.operations import log_context

HEADER = "X-Request-Id"
# Anything else (too long, or characters a log line should not carry) is
# replaced: the id is written into every log line.
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,64}")


def assign_request_id():
    sent = request.headers.get(HEADER, "")
    request_id = sent if _SANE.fullmatch(sent) else secrets.token_hex(16)
    log_context.clear()
    log_context.bind(request_id=request_id)


def add_request_id_header(response):
    request_id = current_request_id()
    if request_id:
        response.headers[HEADER] = request_id
    return response


def current_request_id():
    return log_context.current("request_id")


def forget_request_id(_error=None):
    """After the request (a stream: after its last byte): a thread or
    greenlet that serves no request logs under no id."""
    log_context.clear()
