"""A bounded soak: about a minute of mixed clients against a real gunicorn,
then nothing may be left open and memory must not have grown."""

import os
import random
import threading
import time

import requests

from app.config import Config
from deploy.stack import gunicorn
from tests.conftest import HTMX, page_session, start_answer

SOAK_SECONDS = float(os.environ.get("CHAT_SOAK_SECONDS", "60"))
CLIENTS = 16


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def worker_pid(master):
    children = open(f"/proc/{master.pid}/task/{master.pid}/children").read().split()
    assert len(children) == 1
    return int(children[0])


def normal(base, rng):
    message = "soak " * rng.randint(1, 30)
    with requests.post(f"{base}/api/chat/stream", json={"message": message}, stream=True, timeout=30) as r:
        assert r.content.decode() == message


def disconnecting(base, rng):
    with requests.post(f"{base}/api/chat/stream", json={"message": "x" * 200}, stream=True, timeout=30) as r:
        chunks = r.iter_content(chunk_size=None)
        for _ in range(rng.randint(1, 3)):
            next(chunks)
    # leaving the block closes the connection mid-answer


def failing(base, rng):
    body = rng.choice([{"message": ""}, {"message": "x" * (Config.max_message_chars + 1)},
                       {"history": "nonsense", "message": "hi"}])
    assert requests.post(f"{base}/api/chat", json=body, timeout=30).status_code in (400, 413)


def impatient(base, rng):
    try:
        requests.post(f"{base}/api/chat", json={"message": "y" * 100}, timeout=0.05)
    except requests.Timeout:
        pass


def page_reader(base, rng):
    browser = page_session(base)
    message = "page " * rng.randint(1, 30)
    _bubbles, events_url = start_answer(browser, base, message.strip())
    body = browser.get(events_url, headers=HTMX, timeout=30).text
    assert "outcome-complete" in body and body.rstrip().endswith("event: done\ndata:"), body[-300:]


def page_leaver(base, rng):
    # Leaves mid-answer: the answer goes on being generated without anyone watching.
    browser = page_session(base)
    _bubbles, events_url = start_answer(browser, base, "z" * 200)
    with browser.get(events_url, headers=HTMX, stream=True, timeout=30) as r:
        chunks = r.iter_content(chunk_size=None)
        for _ in range(rng.randint(1, 3)):
            next(chunks)


def run_clients(base, until, errors):
    rng = random.Random()
    kinds = [normal, normal, disconnecting, failing, impatient, page_reader, page_leaver]
    while time.monotonic() < until:
        try:
            rng.choice(kinds)(base, rng)
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(repr(error))


def test_soak_leaves_nothing_open_and_memory_stable(tmp_path):
    env = {"CHAT_FAKE_CHUNKS": "20", "CHAT_FAKE_CHUNK_MS": "20", "GUNICORN_ACCESS_LOG": "/dev/null"}
    with gunicorn(tmp_path, env) as (base, _log, master):
        health = requests.get(f"{base}/healthz", timeout=10).json()
        idle_threads = health["threads"]
        pid = worker_pid(master)
        errors = []
        # A short warm-up first, so caches and pools are full before measuring.
        for until, label in ((time.monotonic() + min(10, SOAK_SECONDS / 4), "warm-up"), (None, "soak")):
            if label == "soak":
                baseline = rss_kib(pid)
                until = time.monotonic() + SOAK_SECONDS
            clients = [threading.Thread(target=run_clients, args=(base, until, errors)) for _ in range(CLIENTS)]
            for client in clients:
                client.start()
            for client in clients:
                client.join(timeout=SOAK_SECONDS + 60)
        assert errors == []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            health = requests.get(f"{base}/healthz", timeout=10).json()
            if health["model_streams_open"] == 0 and health["answers_generating"] == 0 and health["threads"] <= idle_threads:
                break
            time.sleep(0.2)
        assert health["model_streams_open"] == 0, "every model stream was closed"
        assert health["answers_generating"] == 0, "every answer generated in the background ended"
        assert health["threads"] <= idle_threads, "no threads leaked"
        grown_mib = (rss_kib(pid) - baseline) / 1024
        assert grown_mib < 20, f"worker memory grew by {grown_mib:.1f} MiB during the soak"
        assert worker_pid(master) == pid, "the worker survived"
