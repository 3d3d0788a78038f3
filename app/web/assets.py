"""Static asset URLs carrying a content hash, so nginx can cache them for a year."""

import functools
import hashlib
from pathlib import Path

from flask import current_app, url_for


@functools.lru_cache(maxsize=None)
def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def asset_url(filename):
    path = Path(current_app.static_folder) / filename
    return url_for("static", filename=filename, v=_digest(str(path)))
