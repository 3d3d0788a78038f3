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
from tests.conftest import HTMX, PIECE_MARK, page_session, postgres_admin_url, start_answer, throwaway_postgres_database


def conversation_id_in(body):
    return re.search(r'name="conversation_id" value="([^"]+)"', body).group(1)


def test_two_app_servers_share_one_postgresql(tmp_path):
    with throwaway_postgres_database(postgres_admin_url()) as url:
        env = {"DATABASE_URL": url}
        with gunicorn(tmp_path, env) as (first, _, _p), gunicorn(tmp_path, env) as (second, _, _q):
            browser = page_session(first)  # one browser: its cookie works on both servers
            bubbles, events_url = start_answer(browser, first, "started on one")
            conversation_id = conversation_id_in(bubbles)
            assert "outcome-complete" in browser.get(events_url, headers=HTMX, timeout=30).text
            _bubbles, events_url = start_answer(browser, second, "continued on two", conversation_id=conversation_id)
            # followed from the other server: it reads the answer from the database
            followed = browser.get(events_url.replace(second, first), headers=HTMX, timeout=30).text
            assert "outcome-complete" in followed and "continued on two" in followed
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
        bubbles, events_url = start_answer(browser, base, message)
        with browser.get(events_url, headers=HTMX, stream=True, timeout=30) as r:
            received = ""
            for chunk in r.iter_content(chunk_size=None):
                received += chunk.decode()
                if received.count(PIECE_MARK.decode()) >= 20:
                    break
            [worker] = worker_pids(master)
            os.kill(worker, signal.SIGKILL)  # the worker generating the answer
        # the page reconnects to the worker that replaces it
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                followed = browser.get(events_url, headers=HTMX, timeout=30).text
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert "outcome-interrupted" in followed and "stopped before it finished" in followed
        assert ">Retry<" in followed, "the person is offered Retry"
        page = browser.get(f"{base}/c/{conversation_id_in(bubbles)}", timeout=30)
        assert "outcome-interrupted" in page.text
        assert "w00 w01 w02" in page.text, "the checkpointed part of the answer is kept"
