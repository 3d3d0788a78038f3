"""`make stack`: the production stack on loopback for a person to try.

gunicorn (the project's gunicorn.conf.py, provider from the environment as
usual) on 127.0.0.1:8000 behind nginx on http://127.0.0.1:8080. Ctrl+C stops
both. Logs and nginx's files go to instance/stack/.
"""

import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy.stack import PROJECT, RATE_LIMITS, gunicorn, nginx  # noqa: E402


def stop_on_sigterm(_signum, _frame):
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, stop_on_sigterm)  # stop both servers, not only this script
    workdir = PROJECT / "instance" / "stack"
    workdir.mkdir(parents=True, exist_ok=True)
    nginx_port = int(os.environ.get("STACK_PORT", "8080"))
    env = {
        "CHAT_PROVIDER": os.environ.get("CHAT_PROVIDER", ""),
        "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
        "GUNICORN_WORKERS": os.environ.get("GUNICORN_WORKERS", str(os.cpu_count() or 2)),
        "CHAT_PROXY_HOPS": "1",
        # the limits a deployment has (the test helper turns them off)
        **{name: os.environ.get(name, default) for name, default in RATE_LIMITS.items()},
    }
    with gunicorn(workdir, env, port=8000) as (app_url, app_log, _):
        with nginx(workdir, [app_url], port=nginx_port) as (url, prefix):
            print(f"Open {url}  (gunicorn log: {app_log}, nginx logs: {prefix}). Ctrl+C stops.", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                print("stopping")


if __name__ == "__main__":
    main()
