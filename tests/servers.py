"""Starting real servers (gunicorn, later nginx) on loopback for end-to-end tests."""

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port, process=None, timeout=30.0, log_path=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            log = Path(log_path).read_text() if log_path else ""
            raise RuntimeError(f"server exited with {process.returncode}:\n{log[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout}s")


@contextmanager
def gunicorn(tmp_path, env=None, args=()):
    """A real `gunicorn wsgi:app` with the project's gunicorn.conf.py, on a free port.

    Yields (base_url, log_path). The fake provider unless env says otherwise.
    """
    port = free_port()
    log_path = tmp_path / f"gunicorn-{port}.log"
    server_env = {
        **os.environ,
        "CHAT_PROVIDER": "fake",
        "DATABASE_URL": f"sqlite:///{tmp_path}/chat.sqlite3",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        **(env or {}),
    }
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(GUNICORN), "wsgi:app", *args], cwd=PROJECT, env=server_env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(port, process, log_path=log_path)
        yield f"http://127.0.0.1:{port}", log_path, process
    finally:
        process.send_signal(signal.SIGINT)  # quick shutdown: tests do not wait for idle keep-alives
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
