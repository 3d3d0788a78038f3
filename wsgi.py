"""The WSGI entry point: `gunicorn wsgi:app` (settings in gunicorn.conf.py)."""

import logging
import sys

from app import create_app
from app.config import ConfigError

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

try:
    app = create_app()
except ConfigError as error:
    # One line that says what to set, not a traceback. Exit status 3 is
    # gunicorn's "worker failed to boot": the arbiter stops instead of
    # restarting workers that can never start.
    print(f"chat: configuration error: {error}", file=sys.stderr)
    sys.exit(3)
