"""gRPC (ChatVertexAI's default transport) in a gevent worker.

gRPC must be told about gevent before its first channel
(`grpc.experimental.gevent.init_gevent()`), or its waits block the hub. Told,
it waits for every event of every call on a native thread, through gevent's
hub thread pool: one `apply` per message, and one thread of that pool held
by each channel for as long as it has calls (and one more for its callback
queue). Two costs follow:

- gevent's `ThreadPool.apply` is general (a result object, an async watcher
  and a queue with a Python-level condition per task): about a quarter of
  the CPU of reading a Gemini answer over gRPC (docs/benchmarks.md, "The
  real Gemini path": about 175 -> 140 us per piece with the pool below);
- the hub's pool has 10 threads, which also render answers and run the local
  model (app/offload.py): with a few models (a channel each) gRPC's waits
  would take most of them.

So gRPC's waits get `BlockingWaits`, a pool of their own whose threads each
take one blocking call at a time and hand its result to the hub through one
async watcher. It replaces the pool gRPC's Cython module keeps in its global
`g_gevent_threadpool`, the only thing gRPC asks of it being `apply`.
"""

import _queue  # the C module: gevent patches `queue`, whose SimpleQueue would block the hub, not this one
import collections

import gevent
from gevent import monkey
from gevent.hub import Waiter


def cooperate_with_gevent():
    """Tell gRPC about gevent, with its blocking waits on `BlockingWaits`.
    Call once per process, after gevent's patching, before any channel."""
    from grpc._cython import cygrpc
    from grpc.experimental import gevent as grpc_gevent

    grpc_gevent.init_gevent()
    if hasattr(cygrpc, "g_gevent_threadpool"):  # else a gRPC release that changed: its own pool stays
        cygrpc.g_gevent_threadpool = BlockingWaits()


class BlockingWaits:
    """`apply(function, args)` from a greenlet: the call runs on a native
    thread while the greenlet waits; its result (or exception) comes back to
    the greenlet through the hub. A thread is started whenever every thread
    is busy, so a call never waits for another to end (gRPC's callback queue
    holds one thread for good); threads are kept for the next calls."""

    def __init__(self):
        self._start_thread = monkey.get_original("_thread", "start_new_thread")
        self._calls = _queue.SimpleQueue()  # native: blocks a native thread, not the hub
        self._results = collections.deque()  # (waiter, (ok, value)), appended by the threads
        self._idle_threads = 0  # read and written on the hub's thread only
        self._wake = gevent.get_hub().loop.async_()
        self._wake.start(self._hand_back)

    def apply(self, function, args=()):
        waiter = Waiter()
        if self._idle_threads == 0:
            self._start_thread(self._serve, ())
        else:
            self._idle_threads -= 1
        self._calls.put((function, args, waiter))
        ok, value = waiter.get()
        if ok:
            return value
        raise value

    def _serve(self):
        """A native thread: run calls as they come."""
        while True:
            function, args, waiter = self._calls.get()
            try:
                result = (True, function(*args))
            except BaseException as exc:  # noqa: BLE001 - raised in the greenlet that asked
                result = (False, exc)
            self._results.append((waiter, result))
            self._wake.send()

    def _hand_back(self):
        """On the hub: wake the greenlets whose calls have ended (one wake-up
        may bring many)."""
        while self._results:
            waiter, result = self._results.popleft()
            self._idle_threads += 1
            waiter.switch(result)
