"""Models first in a burst: the requests waiting in a worker ask their models
before any of them saves and renders.

A message costs the worker about 1.2 ms of CPU before its first byte, and its
model is asked about halfway through, as soon as the history is known.
When a thousand messages arrived at once, a gevent worker took them one after
the other, so the last person's model was asked only after everyone ahead had
been saved and rendered: the model's time to first piece came on top of that
queue.

Now a request that has asked its model waits here until the worker has
nothing else to run, or its model has already answered, for at most
`CHAT_BURST_YIELD_SECONDS` (0.4 s by default; 0 turns it off). Meanwhile the
requests behind it are read and ask their models; its own saving and
rendering come after, while the models think. The bound keeps a worker that
is never idle (streaming flat out) answering, and a fast model's first piece
is never held back for it. Without a burst the worker is idle at once, and
this costs a few µs. Under the gthread worker the OS shares the CPU between
threads, and this does nothing.

Measured in docs/benchmarks.md ("Round 4").
"""

import sys


def under_gevent():
    """True in a process gevent has monkey-patched (gunicorn's gevent worker)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def let_waiting_requests_start(limit_seconds, answered):
    """Wait until this gevent worker is idle, or `answered` (an Event, set
    when this request's model has said something) is set, at most
    `limit_seconds`."""
    if limit_seconds <= 0 or not under_gevent() or answered.is_set():
        return
    from gevent import get_hub
    from gevent.event import Event

    go = Event()
    idle = get_hub().loop.idle()
    idle.start(go.set)

    def model_answered(_event):
        go.set()

    answered.rawlink(model_answered)
    try:
        go.wait(limit_seconds)
    finally:
        idle.stop()
        answered.unlink(model_answered)
