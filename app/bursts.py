"""Models first in a burst: the requests waiting in a worker ask their models
before any of them saves and renders.

A message costs the worker about 1.2 ms of CPU before its first byte, and its
model is asked about a third of the way in, as soon as the history is known.
When a thousand messages arrived at once, a gevent worker took them one after
the other, so the last person's model was asked only after everyone ahead had
been saved and rendered: the model's time to first piece came on top of that
queue.

Now a request that has asked its model waits here until the worker has
nothing else to run, at most `CHAT_BURST_YIELD_SECONDS` (0.25 s by default,
below a model's usual time to first piece; 0 turns it off). Meanwhile the
requests behind it are read and ask their models; its own saving and
rendering come after, while the models think. The bound keeps a worker that
is never idle (streaming flat out) answering. Without a burst the worker is
idle at once, and this costs a few µs. Under the gthread worker the OS
shares the CPU between threads, and this does nothing.

Measured in docs/benchmarks.md ("Round 4").
"""

import sys


def under_gevent():
    """True in a process gevent has monkey-patched (gunicorn's gevent worker)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and monkey.is_module_patched("threading")


def let_waiting_requests_start(limit_seconds):
    """Wait until this gevent worker is idle, at most `limit_seconds`."""
    if limit_seconds <= 0 or not under_gevent():
        return
    import gevent

    with gevent.Timeout(limit_seconds, False):
        gevent.idle()
