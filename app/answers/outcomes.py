"""How an answer ended, and what a person is told about it.

Every answer ends with one outcome:

    complete     the model finished (Gemini's STOP)
    truncated    the model stopped at its length limit (MAX_TOKENS)
    blocked      Gemini's safety filters refused the question or the answer
    error        the model failed, broke off, or took too long
    stopped      the person pressed Stop
    interrupted  the reader went away, or the process writing it died

A model's failure is put in words that say whether trying again can help,
and whose it is to fix: the person's (try again later, change the question)
or the operator's (credentials, project permissions, CHAT_MODEL). Only
failures that may pass are retried, and only by the app.
"""

from dataclasses import dataclass

# The outcomes' own words are stored, so they are storage's (looked down to from here).
from app.storage.answer_endings import BLOCKED, COMPLETE, ERROR, INTERRUPTED, STOPPED, TRUNCATED  # noqa: F401

TIMED_OUT = "The model took too long to answer. Please try again."
TOO_LONG = "The answer reached its time limit and was cut off here."
CUT_AT_LENGTH = "The answer was cut off here: it reached the model's length limit."
BROKE_OFF = "The model's answer broke off before it finished. Please try again."

# Gemini's finish reasons that mean its filters stopped the answer.
_BLOCKING_FINISHES = {
    "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION", "MODEL_ARMOR",
}
_CATEGORY_WORDS = {
    "HARM_CATEGORY_HATE_SPEECH": "hate speech",
    "HARM_CATEGORY_DANGEROUS_CONTENT": "dangerous content",
    "HARM_CATEGORY_HARASSMENT": "harassment",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT": "sexually explicit content",
    "HARM_CATEGORY_CIVIC_INTEGRITY": "civic integrity",
}
# Why, in words, when no category says it better.
_REASON_WORDS = {
    "RECITATION": "recitation of protected material",
    "BLOCKLIST": "a blocked term",
    "PROHIBITED_CONTENT": "prohibited content",
    "SPII": "sensitive personal information",
    "MODEL_ARMOR": "the project's Model Armor policy",
    "IMAGE_SAFETY": "an unsafe image",
    "OTHER": "a reason Gemini did not give",
}


def category_words(category):
    """A safety category as a person reads it; None for none."""
    if not category:
        return None
    return _CATEGORY_WORDS.get(category, category.removeprefix("HARM_CATEGORY_").replace("_", " ").lower())


@dataclass(frozen=True)
class Verdict:
    outcome: str
    error: str = ""  # what the person is told, if the outcome is not complete


def blocked_message(finish_reason, category, prompt_blocked):
    what = "this question" if prompt_blocked else "this answer"
    why = category_words(category) or _REASON_WORDS.get(finish_reason or "", None)
    because = f" ({why})" if why else ""
    return f"Gemini's safety filters declined {what}{because}. Try rephrasing it."


def verdict_for(ending):
    """The outcome a provider's `Ending` means, and the words for it."""
    reason = ending.finish_reason
    if ending.prompt_blocked or reason in _BLOCKING_FINISHES:
        return Verdict(BLOCKED, blocked_message(reason, ending.category, ending.prompt_blocked))
    if reason == "STOP":
        return Verdict(COMPLETE)
    if reason == "MAX_TOKENS":
        return Verdict(TRUNCATED, CUT_AT_LENGTH)
    if reason is None:
        return Verdict(ERROR, BROKE_OFF)
    return Verdict(ERROR, f"The model stopped without finishing ({reason}). Please try again.")


# --- A model that failed ------------------------------------------------------

_RETRYABLE = {"rate-limited", "timeout", "unavailable", "connection", "server"}


def error_kind(exc):
    """What kind of failure `exc` is, by the class names and HTTP statuses of
    google.api_core (REST and gRPC name some differently), google.auth,
    requests and urllib3, without importing them."""
    name = type(exc).__name__
    status = getattr(exc, "code", None) or getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    if name in ("ResourceExhausted", "TooManyRequests") or status == 429:
        return "rate-limited"
    if name in ("DeadlineExceeded", "Timeout", "ReadTimeout") or "timeout" in name.lower():
        return "timeout"
    if name == "ServiceUnavailable" and "Stream removed" in str(exc):
        return "connection"  # gRPC's word for a connection cut mid-call
    if name == "ServiceUnavailable" or status == 503:
        return "unavailable"
    if name in ("ConnectionError", "ChunkedEncodingError", "ProtocolError"):
        return "connection"
    if name in ("InternalServerError", "BadGateway", "GatewayTimeout") or status in (500, 502, 504):
        return "server"
    if name in ("BadRequest", "InvalidArgument", "FailedPrecondition", "OutOfRange") or status == 400:
        return "bad-request"
    if name in ("Unauthenticated", "Unauthorized", "RefreshError", "DefaultCredentialsError",
                "InvalidOperation") or status == 401:
        return "credentials"
    if name in ("PermissionDenied", "Forbidden") or status == 403:
        return "permission"
    if name == "NotFound" or status == 404:
        return "not-found"
    return "other"


_MESSAGES = {
    "rate-limited": "The model is busy right now (rate limited). Please try again in a moment.",
    "timeout": TIMED_OUT,
    "unavailable": "The model service is unavailable right now. Please try again in a moment.",
    "connection": "The connection to the model was lost. Please try again.",
    "server": "The model failed to answer (a server error on its side). Please try again.",
    "credentials": "The model refused this server's Google Cloud credentials. This is for the site's "
                   "operator to fix (the server's credentials), not something you can change.",
    "permission": "This server's Google Cloud project is not allowed to use the model (permission denied). "
                  "This is for the site's operator to fix (project permissions, Vertex AI API enabled).",
}
UPSTREAM_DETAIL_CHARS = 300


def public_error_message(exc, model_name=None):
    """A clear message for a person: never a stack trace or a credential, and
    whether trying again can help."""
    kind = error_kind(exc)
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "bad-request":
        # Google's own sentence says what was wrong (too long, a bad
        # setting...); it never holds a credential. Shown as text.
        detail = " ".join(str(getattr(exc, "message", "") or "").split())[:UPSTREAM_DETAIL_CHARS]
        return f"The model rejected the request as invalid{': ' + detail if detail else ''}. " \
               "Sending the same again will not help; try a shorter or different message."
    if kind == "not-found":
        named = f" {model_name!r}" if model_name else ""
        return f"The model{named} was not found. The site's operator should check CHAT_MODEL."
    return "The model failed to answer. Please try again."


def is_retryable(exc):
    """Worth another try: the upstream's passing trouble, not a request,
    credential or model name that will fail the same way again."""
    return error_kind(exc) in _RETRYABLE
