"""Real gunicorn processes and what they leave in the database."""

import os
import re
import signal
import subprocess
import time
from contextlib import ExitStack

import pytest
import requests

from deploy.stack import gunicorn
from tests.conftest import HTMX, PIECE_MARK, page_session, postgres_admin_url, throwaway_postgres_database


def conversation_id_in(body):
    return re.search(r'name="conversation_id" value="([^"]+)"', body).group(1)


def test_two_app_servers_share_one_postgresql(tmp_path):
    with throwaway_postgres_database(postgres_admin_url()) as url:
        env = {"DATABASE_URL": url}
        with gunicorn(tmp_path, env) as (first, _, _p), gunicorn(tmp_path, env) as (second, _, _q):
            browser = page_session(first)  # one browser: its cookie works on both servers
            body = browser.post(f"{first}/messages", headers=HTMX, data={"message": "started on one"}, timeout=30).text
            conversation_id = conversation_id_in(body)
            more = browser.post(
                f"{second}/messages", headers=HTMX, data={"message": "continued on two", "conversation_id": conversation_id},
                timeout=30,
            )
            assert more.status_code == 200 and "outcome-complete" in more.text
            page = browser.get(f"{first}/c/{conversation_id}", timeout=30).text
            assert "started on one" in page and "continued on two" in page
            assert requests.get(f"{second}/c/{conversation_id}", timeout=30).status_code == 404


def worker_pids(master):
    out = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_worker_killed_mid_answer_leaves_the_conversation_readable(tmp_path, database):
    env = {"CHAT_FAKE_CHUNKS": "100", "CHAT_FAKE_CHUNK_MS": "50", "CHAT_CHECKPOINT_SECONDS": "0.2"}
    with ExitStack() as stack:
        if database == "postgresql":
            env["DATABASE_URL"] = stack.enter_context(throwaway_postgres_database(postgres_admin_url()))
        base, _log, master = stack.enter_context(gunicorn(tmp_path, env))
        browser = page_session(base)
        message = "".join(f"w{i:02d} " for i in range(25))
        with browser.post(f"{base}/messages", headers=HTMX, data={"message": message}, stream=True, timeout=30) as r:
            received = ""
            for chunk in r.iter_content(chunk_size=None):
                received += chunk.decode()
                if received.count(PIECE_MARK.decode()) >= 20:
                    break
            [worker] = worker_pids(master)
            os.kill(worker, signal.SIGKILL)
        conversation_id = conversation_id_in(received)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                page = browser.get(f"{base}/c/{conversation_id}", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert page.status_code == 200
        assert "outcome-interrupted" in page.text
        assert "w00 w01 w02" in page.text, "the checkpointed part of the answer is kept"
