"""Files that hold conversations are the owner's alone.

Created with the process's umask they would be world-readable (0644) on most
systems: any local account could read every transcript. The systemd unit also
sets UMask=0077; this covers `python -m app` and any other way of starting.
"""

import os
from pathlib import Path

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def private_directory(path):
    """Make `path` (and its parents) if missing; either way, only its owner may enter it."""
    os.makedirs(path, mode=PRIVATE_DIRECTORY, exist_ok=True)
    _chmod(path, PRIVATE_DIRECTORY)


def private_sqlite_file(path):
    """A SQLite database and its journal files, readable by their owner only.
    SQLite gives the -wal and -shm files it makes later the database's mode."""
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if Path(name).exists():
            _chmod(name, PRIVATE_FILE)


def _chmod(path, mode):
    try:
        os.chmod(path, mode)
    except PermissionError:
        pass  # not ours (a shared directory set up by its owner): leave it as it is
