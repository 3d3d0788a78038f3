"""What every log line is about: the request id, the owner (hashed), the
conversation and the answer, kept in a context variable.

A request binds its id (request_ids.py) and, once known, its owner; the task
that generates an answer binds the id of the request that asked for it and
the answer's ids, so the answer's lines can be traced to that request.
Context variables are per thread and per greenlet, so requests served at the
same time never see each other's.
"""

import contextvars
import hashlib
import logging

FIELDS = ("request_id", "owner", "conversation_id", "answer_id")
_context = contextvars.ContextVar("log_context", default={})


def bind(**fields):
    """Add `fields` to what this request's (or task's) log lines carry."""
    _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})


def clear():
    _context.set({})


def current(field):
    return _context.get().get(field)


def owner_hash(owner_id):
    """An owner as logs name it: enough to group one person's lines, nothing
    that would let a log reader act as them (the id is a credential)."""
    return hashlib.sha256(owner_id.encode()).hexdigest()[:12] if owner_id else None


class ContextFilter(logging.Filter):
    """Puts the bound fields on every record, "-" where none is bound."""

    def filter(self, record):
        context = _context.get()
        for field in FIELDS:
            if not hasattr(record, field):
                setattr(record, field, context.get(field, "-"))
        return True
