"""The production stack on loopback: a real gunicorn behind a real nginx.

Used by `make stack` (for a person to try), by the end-to-end tests and by
the benchmarks, so all three run exactly what is deployed.
"""

import os
import runpy
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from deploy.nginx_config import proxy_mode_settings, render_standalone

PROJECT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# Every rate limit's setting, with the app's default (app/config.py).
RATE_LIMITS = {
    "CHAT_RATE_MESSAGES_PER_MINUTE": "20", "CHAT_RATE_MAX_STREAMS": "3",
    "CHAT_RATE_ADDRESS_MESSAGES_PER_MINUTE": "60", "CHAT_RATE_ADDRESS_MAX_STREAMS": "12",
    "CHAT_RATE_NEW_OWNERS_PER_HOUR": "30", "CHAT_RATE_FAILED_AUTH_PER_HOUR": "30",
}
# One key for every server this process starts, so they accept each other's cookies.
RUN_SECRET_KEY = secrets.token_hex(32)


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


def wait_for_workers(log_path, count, process, timeout=120.0):
    """Wait until `count` workers have loaded the app (each logs
    gunicorn.conf.py's WORKER_READY). The master listens at once, but a
    request that comes before a worker has loaded the app waits for it, and
    on a busy machine that takes seconds: longer than a short proxy timeout."""
    ready = runpy.run_path(str(PROJECT / "gunicorn.conf.py"))["WORKER_READY"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = Path(log_path).read_text()
        if log.count(ready) >= count:
            return
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{log[-3000:]}")
        time.sleep(0.05)
    raise RuntimeError(f"{count} gunicorn worker(s) not ready after {timeout}s")


@contextmanager
def gunicorn(tmp_path, env=None, args=(), port=None, app_module="wsgi:app"):
    """A real `gunicorn wsgi:app` with the project's gunicorn.conf.py, on a free port.

    Yields (base_url, log_path, process). The fake provider, one worker and a
    SQLite file in `tmp_path` unless `env` says otherwise. `app_module` runs
    another app under the same settings (a benchmark's, from the project's root).
    """
    port = port or free_port()
    log_path = tmp_path / f"gunicorn-{port}.log"
    server_env = {
        **os.environ,
        "CHAT_PROVIDER": "fake",
        "DATABASE_URL": f"sqlite:///{tmp_path}/chat.sqlite3",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or RUN_SECRET_KEY,
        # Tests and benchmarks send many messages from one address; `env` can
        # turn the rate limits back on (make stack does).
        **{name: "0" for name in RATE_LIMITS},
        "CHAT_RATE_LIMIT_FILE": str(tmp_path / "rate-limits.sqlite3"),
        **(env or {}),
    }
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(GUNICORN), app_module, *args], cwd=PROJECT, env=server_env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        wait_for_port(port, process, timeout=120.0, log_path=log_path)
        wait_for_workers(log_path, int(server_env["GUNICORN_WORKERS"]), process)
        yield f"http://127.0.0.1:{port}", log_path, process
    finally:
        stop(process, signal.SIGINT)  # quick shutdown: no waiting for idle keep-alives


@contextmanager
def nginx(tmp_path, upstreams, read_timeout="300s", port=None, client_limits=True, auth_proxy=None, app_env=None):
    """A real nginx on a free loopback port, with the site from deploy/nginx.conf
    proxying to `upstreams` (base URLs). Yields (base_url, prefix_dir).
    `client_limits=False` is for load tests from one address alone, `auth_proxy`
    an authenticating proxy's URL in front (see render_site), the site then
    rendered from the app's settings `app_env` (the env given to `gunicorn`)."""
    port = port or free_port()
    prefix = tmp_path / f"nginx-{port}"
    prefix.mkdir(exist_ok=True)
    for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / temp).mkdir(exist_ok=True)
    config = prefix / "nginx.conf"
    config.write_text(
        render_standalone(
            prefix,
            listen=f"127.0.0.1:{port}",
            upstreams=[url.removeprefix("http://") for url in upstreams],
            read_timeout=read_timeout,
            client_limits=client_limits,
            auth_proxy=auth_proxy,
            **(proxy_mode_settings(app_env or {}) if auth_proxy else {}),
        )
    )
    process = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(config)], stderr=subprocess.STDOUT,
                               stdout=open(prefix / "stdout.log", "w"))
    try:
        wait_for_port(port, process, log_path=prefix / "error.log")
        yield f"http://127.0.0.1:{port}", prefix
    finally:
        stop(process, signal.SIGQUIT)


def stop(process, sig):
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
