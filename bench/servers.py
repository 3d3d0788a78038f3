"""Lets the bench scripts import the project (run them from anywhere)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy.stack import gunicorn, nginx  # noqa: E402,F401
