"""The WSGI entry point: `gunicorn wsgi:app` (settings in gunicorn.conf.py)."""

import os
import sys

from app import create_app
from app.config import ConfigError
from app.operations.logs import configure_logging

# Before the app is made, so its first lines are in the chosen format too (a
# wrong value is refused by the app's settings check below).
configure_logging("json" if os.environ.get("CHAT_LOG_FORMAT", "").strip().lower() == "json" else "text")

try:
    app = create_app()
except ConfigError as error:
    # One line that says what to set, not a traceback. Exit status 3 is
    # gunicorn's "worker failed to boot": the arbiter stops instead of
    # restarting workers that can never start.
    print(f"chat: configuration error: {error}", file=sys.stderr)
    sys.exit(3)
