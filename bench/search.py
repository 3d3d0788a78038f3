"""Search time over a month's worth of conversations (issue 34's target: p95 under 50 ms).

    .venv/bin/python -m bench.search                      # SQLite (a file in a temporary folder)
    .venv/bin/python -m bench.search --database-url postgresql://...   # an empty database

Stores, for one person, `--conversations` conversations (10,000) of
`--messages` messages each (20: ten questions and ten answers), written
through the app's own schema (migrations, so the FTS5 triggers or PostgreSQL's
generated columns index them as they would in use), plus a second person's
conversations, which must cost nothing but never show. Text comes from a
vocabulary of 20,000 made-up words drawn with Zipf's law (a word's frequency
is 1/rank), so some words are in most messages and most words in few, as in
real text.

It then times `GET /search?q=...` through Flask's test client, as the page's
search box sends it (the ranked query, the snippets, the template), for
queries of four kinds: a word of middling frequency (rank 200-5,000), a
common word (rank 20-200), two middling words, and the first 3-4 letters of a
middling word (the box as it is being typed). Prints JSON: p50, p95 and max
per kind and over all, in milliseconds.
"""

import argparse
import itertools
import json
import os
import random
import secrets
import statistics
import tempfile
import time
from datetime import datetime, timedelta

from sqlalchemy import create_engine, insert

from app import create_app
from app.storage.engine import resolve_database_url
from app.storage.migrate import upgrade
from app.storage.models import Conversation, Message

SYLLABLES = [a + b for a in "bdfgklmnprstvz" for b in ("a", "e", "i", "o", "u", "ai", "ou")]
HEADERS = {"HX-Request": "true"}


def vocabulary(size, rng):
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words, key=lambda _w: rng.random())


def sentence_source(words, rng):
    weights = list(itertools.accumulate(1 / rank for rank in range(1, len(words) + 1)))
    return lambda count: " ".join(rng.choices(words, cum_weights=weights, k=count))


def fill(engine, owner_id, other_owner_id, conversations, messages, text):
    start = datetime(2026, 1, 1)
    batch = 200
    for first in range(0, conversations, batch):
        conversation_rows, message_rows = [], []
        for n in range(first, min(first + batch, conversations)):
            owner = other_owner_id if n % 10 == 9 else owner_id  # a tenth is someone else's
            at = start + timedelta(minutes=n)
            conversation_id = secrets.token_urlsafe(16)
            question = text(12)
            conversation_rows.append({"id": conversation_id, "owner_id": owner, "title": question[:60],
                                      "created_at": at, "updated_at": at, "stored_bytes": 0})
            for m in range(messages):
                is_question = m % 2 == 0
                message_rows.append({
                    "conversation_id": conversation_id, "role": "user" if is_question else "assistant",
                    "content": question if m == 0 else text(random.randint(8, 30) if is_question else
                                                             random.randint(60, 200)),
                    "outcome": "complete", "error": "", "model": "" if is_question else "bench",
                    "created_at": at, "search": False, "stored_bytes": 0,
                })
        with engine.begin() as connection:
            connection.execute(insert(Conversation), conversation_rows)
            connection.execute(insert(Message), message_rows)


def queries(words, rng, count):
    kinds = {
        "middling word": lambda: rng.choice(words[200:5000]),
        "common word": lambda: rng.choice(words[20:200]),
        "two middling words": lambda: f"{rng.choice(words[200:5000])} {rng.choice(words[200:5000])}",
        "typing (prefix)": lambda: rng.choice(words[200:5000])[:rng.randint(3, 4)],
    }
    return [(kind, make()) for kind, make in kinds.items() for _ in range(count)]


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a new SQLite file)")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--queries", type=int, default=100, help="of each kind")
    parser.add_argument("--seed", type=int, default=34)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    random.seed(args.seed)
    words = vocabulary(20_000, rng)
    folder = tempfile.mkdtemp(prefix="bench-search-")
    url = args.database_url or f"sqlite:///{folder}/chat.sqlite3"
    engine = create_engine(resolve_database_url(url, folder))
    upgrade(engine)

    os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
    app = create_app({"provider": "fake", "model": "fake-echo", "database_url": url,
                      "rate_limit_file": f"{folder}/rate-limits.sqlite3"})
    client = app.test_client()
    client.get("/")
    with client.session_transaction() as session:
        owner_id = session["owner"]

    began = time.perf_counter()
    fill(engine, owner_id, "someone-else", args.conversations, args.messages, sentence_source(words, rng))
    filled_seconds = time.perf_counter() - began

    timings = {}
    for kind, query in queries(words, rng, args.queries):
        began = time.perf_counter()
        response = client.get("/search", query_string={"q": query}, headers=HEADERS)
        elapsed = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, response.get_data(as_text=True)
        timings.setdefault(kind, []).append(elapsed)

    every = [t for values in timings.values() for t in values]
    summary = lambda values: {"p50": round(statistics.median(values), 1), "p95": round(percentile(values, 0.95), 1),
                              "max": round(max(values), 1)}
    print(json.dumps({
        "database": engine.dialect.name, "conversations": args.conversations, "messages_each": args.messages,
        "fill_seconds": round(filled_seconds, 1), "all_ms": summary(every),
        **{f"{kind}_ms": summary(values) for kind, values in timings.items()},
    }, indent=2))


if __name__ == "__main__":
    main()
