"""A real gunicorn, read by a streaming HTTP client: pieces arrive spaced in time."""

import time

import requests

from deploy.stack import gunicorn
from tests.conftest import HTMX, PIECE_MARK, page_session, start_answer


def arrival_times(response):
    started, arrivals = time.monotonic(), []
    for chunk in response.iter_content(chunk_size=None):
        arrivals.append((time.monotonic() - started, chunk))
    return arrivals


def assert_spread_out(arrivals, gap):
    times = [t for t, _ in arrivals]
    # Five pieces 300 ms apart take 1.2 s; bunched at the end they would
    # arrive within a few ms. Generous margins: these machines are shared.
    assert times[-1] - times[0] > 4 * gap * 0.5
    distinct = sum(1 for a, b in zip(times, times[1:]) if b - a > gap * 0.3)
    assert distinct >= 3


def test_text_stream_through_gunicorn_arrives_piece_by_piece(tmp_path):
    env = {"CHAT_FAKE_CHUNKS": "5", "CHAT_FAKE_CHUNK_MS": "300"}
    with gunicorn(tmp_path, env) as (base, _log, _process):
        with requests.post(f"{base}/api/chat/stream", json={"message": "abcdefghij"}, stream=True, timeout=30) as r:
            assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
            arrivals = arrival_times(r)
    assert b"".join(chunk for _, chunk in arrivals) == b"abcdefghij"
    assert_spread_out(arrivals, 0.3)


def test_page_stream_through_gunicorn_arrives_piece_by_piece(tmp_path):
    env = {"CHAT_FAKE_CHUNKS": "5", "CHAT_FAKE_CHUNK_MS": "300"}
    with gunicorn(tmp_path, env) as (base, _log, _process):
        browser = page_session(base)
        _bubbles, events_url = start_answer(browser, base, "abcdefghij")
        with browser.get(events_url, headers=HTMX, stream=True, timeout=30) as r:
            assert r.headers["Content-Type"].startswith("text/event-stream")
            arrivals = arrival_times(r)
    pieces = [chunk for _, chunk in arrivals if PIECE_MARK in chunk]
    assert len(pieces) == 5
    assert_spread_out([(t, c) for t, c in arrivals if PIECE_MARK in c], 0.3)


def test_a_misconfiguration_stops_start_up_with_one_line(tmp_path):
    import subprocess

    from deploy.stack import GUNICORN, PROJECT

    result = subprocess.run(
        [str(GUNICORN), "wsgi:app", "--bind", "127.0.0.1:0"],
        cwd=PROJECT,
        env={"PATH": "/usr/bin:/bin", "CHAT_PROVIDER": "vertexai"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "configuration error: CHAT_PROVIDER=vertexai needs GOOGLE_CLOUD_PROJECT" in result.stderr
    assert "Traceback" not in result.stderr
