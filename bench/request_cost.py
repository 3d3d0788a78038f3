"""CPU per request of each route, in one process, without a server.

    .venv/bin/python bench/request_cost.py [--requests 300] [--runs 5]

Flask's test client against a fresh SQLite file, fake provider with one-piece
answers and no delays, so what is measured is the work a request costs
before and around its answer: parsing, session, CSRF, limits, the database
writes and the templates. Prints the median over runs of the CPU time
(process time) per request, for the page's message POST (htmx), the page's
whole answer (that POST, then its event stream to the end), the text API
and /healthz as a floor. Under load this is the work each of a burst of
requests waits behind (docs/benchmarks.md, "Setup cost").
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MESSAGE = "abcdefghij " * 110  # the size of the concurrency bench's answers


def build_client(database):
    from deploy.stack import RATE_LIMITS

    os.environ.update(
        SECRET_KEY="bench-" + "x" * 32, CHAT_PROVIDER="fake", CHAT_FAKE_CHUNKS="1",
        DATABASE_URL=f"sqlite:///{database}", **{name: "0" for name in RATE_LIMITS},
    )
    from app import create_app

    return open_browser(create_app())


def open_browser(app):
    """A test client with a browser session, as a person's tab has one after
    opening the page: (client, its CSRF token)."""
    client = app.test_client()
    page = client.get("/").get_data(as_text=True)
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def drain(response):
    for _chunk in response.response:
        pass
    response.close()


def send_and_follow(client, form):
    """The page's whole answer: the message POST as htmx sends it, then the
    new bubble's event stream to its end."""
    bubbles = client.post("/messages", data=form, headers={"HX-Request": "true"}).get_data(as_text=True)
    events = re.search(r'hx-sse:connect="([^"]+)"', bubbles).group(1).replace("&amp;", "&")
    drain(client.get(events, buffered=False))


def routes(client, token):
    form = {"message": MESSAGE, "conversation_id": "", "csrf_token": token}

    def page():
        drain(client.post("/messages", data=form, headers={"HX-Request": "true"}, buffered=False))

    def page_answer():
        # The answer is generated on a thread of its own; process time counts every thread.
        send_and_follow(client, form)

    def api():
        drain(client.post("/api/chat/stream", json={"message": MESSAGE}, buffered=False))

    def health():
        drain(client.get("/healthz", buffered=False))

    return {"page POST /messages": page, "page answer (POST + events)": page_answer,
            "api POST /api/chat/stream": api, "GET /healthz": health}


def cpu_per_call(call, count):
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) / count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        client, token = build_client(Path(folder) / "bench.sqlite3")
        for name, call in routes(client, token).items():
            cpu_per_call(call, 20)  # warm-up
            runs = [cpu_per_call(call, args.requests) for _ in range(args.runs)]
            print(f"{name:28} {statistics.median(runs) * 1e3:6.2f} ms CPU per request "
                  f"(runs {min(runs) * 1e3:.2f}-{max(runs) * 1e3:.2f})")


if __name__ == "__main__":
    main()
