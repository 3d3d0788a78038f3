"""Starting the app under gunicorn for a benchmark run (shared by the bench scripts)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers import gunicorn  # noqa: E402,F401  (the same launcher the tests use)
