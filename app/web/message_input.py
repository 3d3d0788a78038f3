"""Checking a chat request's input: the new message and optional earlier turns.

The same rules hold on the page and on the API: an empty message is a 400, one
over CHAT_MAX_MESSAGE_CHARS a 413, each with a message a person can act on.
Text that is not text (a number, a list) or not Unicode (a lone surrogate from
a JSON escape, which could be neither streamed nor stored as UTF-8) is a 400
before anything is saved.
"""

import json

from app.answers.model_history import ROLES
from app.config import MAX_INSTRUCTIONS_CHARS


class BadInput(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def check_unicode(text, what):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(400, f"The {what} is not valid Unicode text (it holds a lone surrogate).") from None
    return text


def check_message(text, max_chars):
    """The message as sent (whitespace kept: it is the person's text), or BadInput."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise BadInput(400, 'The message must be text, like {"message": "Hello"}.')
    if not text.strip():
        raise BadInput(400, "Please type a message first.")
    if len(text) > max_chars:
        raise BadInput(413, f"That message is {len(text):,} characters long; the limit is {max_chars:,}.")
    return check_unicode(text, "message")


def check_model(name, allowed):
    """A model the operator allows (CHAT_MODELS), None for the default, or BadInput."""
    if name is None:
        return None
    if not isinstance(name, str) or name not in allowed:
        raise BadInput(400, f"That model is not offered here; choose one of: {', '.join(allowed)}.")
    return name


def check_instructions(text):
    """A conversation's instructions (a system prompt): text within the limit ("" for none)."""
    if not isinstance(text, str):
        raise BadInput(400, "The instructions must be text.")
    if len(text) > MAX_INSTRUCTIONS_CHARS:
        raise BadInput(413, f"Those instructions are {len(text):,} characters long; the limit is "
                            f"{MAX_INSTRUCTIONS_CHARS:,}.")
    return check_unicode(text.strip(), "instructions")


def parse_json(raw, what):
    """JSON text to a value; nesting deep enough to exhaust the parser is a 400, not a crash."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise BadInput(400, f"The {what} is nested too deeply.") from None


def parse_history(raw):
    """Earlier turns as [{"role": "user"|"assistant", "content": str}, ...].

    JSON bodies give a list; form bodies give the same list as a JSON string.
    """
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        try:
            raw = parse_json(raw, "history")
        except ValueError:
            raise BadInput(400, "history must be a JSON list of {role, content} objects.") from None
    if not isinstance(raw, list):
        raise BadInput(400, "history must be a list of {role, content} objects.")
    turns = []
    for turn in raw:
        if not (isinstance(turn, dict) and turn.get("role") in ROLES and isinstance(turn.get("content"), str)):
            raise BadInput(400, 'Each history turn needs "role" ("user" or "assistant") and "content" (text).')
        turns.append((turn["role"], check_unicode(turn["content"], "history")))
    return turns


def parse_offset(raw):
    """A resume offset: a whole number of characters of the answer already received."""
    raw = raw or "0"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadInput(400, "The offset must be a whole number of characters.")
    return int(raw)
