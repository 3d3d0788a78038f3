"""Memory and time of exporting everything with files, and importing it back.

    .venv/bin/python bench/export_import_memory.py [--conversations 100] [--file-kb 100] [--time-only]

One owner keeps `--conversations` conversations on a fresh SQLite database,
each a question carrying a text file of `--file-kb` KB (different bytes
each) and an answer. Their export with `?files=include` is read through the
Flask test client as it streams, then imported for a second owner. Prints
the file's size, each step's time, and the highest Python allocation
(tracemalloc) above what was held before the step: both are written and read
a conversation at a time, so the peaks stay near one conversation's file
(as base64) and not the whole export's.
"""

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 32)

from app import create_app  # noqa: E402
from app.attachments.uploads import check_upload  # noqa: E402
from app.storage import attachment_store  # noqa: E402
from app.storage.engine import session_for  # noqa: E402
from app.storage.models import Conversation, Message  # noqa: E402
from tests.conftest import PageClient  # noqa: E402

LIMITS_OFF = {"rate_messages_per_minute": 0, "rate_max_streams": 0, "rate_address_messages_per_minute": 0,
              "rate_address_max_streams": 0, "rate_new_owners_per_hour": 0, "rate_failed_auth_per_hour": 0}


def store(app, owner, count, file_bytes):
    config = app.config["CHAT"]
    with session_for(app) as db:
        for n in range(count):
            conversation = Conversation(owner_id=owner, title=f"Notes {n}")
            conversation.messages = [Message(role="user", content=f"Read notes {n}"),
                                     Message(role="assistant", content=f"Notes {n} say... " * 20)]
            db.add(conversation)
            db.flush()
            data = (f"{n:08d} ".encode() * (file_bytes // 9 + 1))[:file_bytes]
            upload = check_upload(config, f"notes-{n}.txt", data, offline=True)
            attachment_store.attach(db.connection(), owner, conversation.id, conversation.messages[0].id, [upload])
        db.commit()


def measured(step, trace=True):
    if not trace:  # tracemalloc slows every allocation: times without it
        started = time.perf_counter()
        return step(), time.perf_counter() - started, float("nan")
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, seconds, (peak - before) / 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--file-kb", type=int, default=100)
    parser.add_argument("--time-only", action="store_true", help="no tracemalloc: times as in production")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"provider": "fake", "database_url": f"sqlite:///{folder}/chat.sqlite3",
                          "rate_limit_file": f"{folder}/rate.sqlite3", "import_max_mb": 1000,
                          "storage_per_person_mb": 0, **LIMITS_OFF})
        app.test_client_class = PageClient
        exporter, importer = app.test_client(), app.test_client()
        exporter.get("/")
        with exporter.session_transaction() as session:
            owner = session["owner"]
        store(app, owner, args.conversations, args.file_kb * 1000)
        path = Path(folder) / "export.json"

        def export():
            response = exporter.get("/export/conversations.json?files=include", buffered=False)
            with open(path, "wb") as out:
                for chunk in response.response:
                    out.write(chunk)

        _, export_seconds, export_peak = measured(export, not args.time_only)
        size = path.stat().st_size
        importer.get("/")

        def import_back():
            # The test client spools the form to disk, as Werkzeug's parser does.
            with open(path, "rb") as file:
                return importer.post("/account/data/import", data={"file": (file, "e.json")},
                                     content_type="multipart/form-data")

        response, import_seconds, import_peak = measured(import_back, not args.time_only)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        print(f"{args.conversations} conversations, a {args.file_kb} KB file each: export {size / 1e6:.1f} MB")
        print(f"export: {export_seconds:.2f} s, peak {export_peak:.1f} MB allocated")
        print(f"import: {import_seconds:.2f} s, peak {import_peak:.1f} MB allocated")


if __name__ == "__main__":
    main()
