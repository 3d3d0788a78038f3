"""gRPC's blocking waits on their own pool under gevent (app/providers/grpc_gevent.py).

Run in a child process patched by gevent, as a gunicorn gevent worker is
(the test process itself is not patched). The real use, gRPC's calls to
Gemini under gunicorn's gevent worker, is tests/end_to_end/test_gemini_gunicorn.py."""

import subprocess
import sys
import textwrap
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import gevent
    from app.providers.grpc_gevent import BlockingWaits

    native_sleep = monkey.get_original("time", "sleep")
    waits = BlockingWaits()
    log = []

    def ticker():  # the hub must keep running while the calls block their threads
        for _ in range(10):
            log.append("tick")
            gevent.sleep(0.02)

    def blocking(value):
        native_sleep(0.3)  # blocks its native thread, not the hub
        return value * 2

    def call(value):
        log.append("start")
        result = waits.apply(blocking, (value,))
        log.append("done")
        return result

    def failing():
        raise LookupError("from the native thread")

    calls = [gevent.spawn(call, i) for i in range(5)]
    tick = gevent.spawn(ticker)
    gevent.joinall([tick, *calls])
    assert [c.value for c in calls] == [0, 2, 4, 6, 8], [c.value for c in calls]
    # Every call was waiting at once, and the hub kept running meanwhile.
    first_done = log.index("done")
    assert log[:first_done].count("start") == 5 and "tick" in log[:first_done], log
    try:
        waits.apply(failing)
    except LookupError as error:
        assert str(error) == "from the native thread"
    else:
        raise AssertionError("the exception was lost")
    # Threads are kept: five more calls need no new ones.
    threads = waits._idle_threads
    gevent.joinall([gevent.spawn(waits.apply, blocking, (i,)) for i in range(5)])
    assert waits._idle_threads == threads == 5, (threads, waits._idle_threads)
    print("ok")
""")


def test_blocking_calls_run_at_once_on_native_threads_and_come_back_to_their_greenlets():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=PROJECT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
