"""How the app's log lines look: readable text (the default), or with
CHAT_LOG_FORMAT=json one JSON object per line, for a log pipeline.

Both carry the request id and the other bound fields (log_context.py). No
line carries a message's text or a credential: the code logs ids, outcomes
and timings, and the owner only hashed.
"""

import logging
import sys

from app.operations.log_context import FIELDS, ContextFilter

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"


def json_formatter():
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        ["asctime", "levelname", "name", "message", *FIELDS],
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )


def configure_logging(log_format="text", stream=None):
    """One handler on the root logger, replacing any: the app's and the
    libraries' lines go through it (gunicorn's own logs are gunicorn's)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return handler
