"""One timer for the deadlines of every answer streaming in this process.

The reply pipeline waits on its model reader's queue. Waiting with a timeout
arms and disarms a timer on every wait, that is, for every piece of every
answer, although a deadline (the next heartbeat, the first-piece or the stall
timeout) is seconds away and is met by the next piece nearly every time.
Instead each answer waits without a timeout and asks this ticker to wake it
at its next deadline: at that time the ticker puts `TICK` on its queue, and
the answer works out what is due and asks again. An answer asks once per
deadline, not once per piece.

The ticker is one daemon thread per process (a greenlet under gevent),
made on first use: so a forked worker makes its own, after gevent has
patched threading (a real Event waited on inside a gevent worker would stop
every stream in it).
"""

import heapq
import itertools
import os
import threading
import time
import weakref

TICK = object()


class DeadlineTicker:
    def __init__(self):
        # Heap of (when, order, weak reference to the queue): an answer that
        # ended before its deadline is not kept alive by the ticker.
        self._due = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self.pid = os.getpid()
        threading.Thread(target=self._run, name="stream-deadlines", daemon=True).start()

    def wake_at(self, when, queue):
        """Put TICK on `queue` at time.monotonic() `when` (now, if it has passed)."""
        with self._lock:
            heapq.heappush(self._due, (when, next(self._order), weakref.ref(queue)))
            earliest = self._due[0][0] == when
        if earliest:
            self._changed.set()

    def _run(self):
        while True:
            # Cleared before looking, so a wake_at() after the look is not missed.
            self._changed.clear()
            with self._lock:
                now = time.monotonic()
                while self._due and self._due[0][0] <= now:
                    queue = heapq.heappop(self._due)[2]()
                    if queue is not None:
                        queue.put(TICK)
                wait = self._due[0][0] - now if self._due else None
            self._changed.wait(wait)


_ticker = None


def ticker():
    """This process's ticker."""
    global _ticker
    if _ticker is None or _ticker.pid != os.getpid():
        _ticker = DeadlineTicker()
    return _ticker
