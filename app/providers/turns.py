"""Answers that take turns at one model, first come first served, each
knowing its place in the line.

llama.cpp answers one question at a time per loaded model, so the local
model's answers queue. The wait must be one a gevent worker survives: a
native lock acquired on the hub while another greenlet holds it blocks the
whole worker (its other requests, /healthz, the very greenlet that would
release it) until gunicorn kills it. So the waits here are events of the
`threading` module as it is when the line is made: gevent's once gunicorn's
worker has patched it, native without gevent. A line is made in the process
that uses it (`turns_for`), never inherited across a fork.
"""

import os
import threading


class Turns:
    """A line of waiters; the first holds the turn."""

    def __init__(self):
        self._guard = threading.Lock()
        self._line = []  # a threading.Event per place, the first holding the turn

    def join(self):
        """A place at the end of the line (a `Place`); `leave()` it when done."""
        place = Place(self, threading.Event())
        with self._guard:
            self._line.append(place)
        return place

    def _ahead_of(self, place):
        with self._guard:
            return self._line.index(place)

    def _leave(self, place):
        with self._guard:
            if place in self._line:
                self._line.remove(place)
            others = list(self._line)
        for other in others:  # everyone moved up one: each says so
            other.changed.set()

    def nudge(self):
        """Wake every waiter, as if the line had moved: something they say changed."""
        with self._guard:
            others = list(self._line)
        for other in others:
            other.changed.set()

    @property
    def waiting(self):
        with self._guard:
            return max(len(self._line) - 1, 0)


class Place:
    def __init__(self, turns, changed):
        self._turns = turns
        self.changed = changed  # set whenever the line moves (or the place is given up)

    @property
    def ahead(self):
        """How many are before this place (0: it holds the turn)."""
        return self._turns._ahead_of(self)

    def wait_for_change(self, timeout=None):
        """Wait until the line moves (or `wake()`), at most `timeout` seconds."""
        self.changed.wait(timeout)
        self.changed.clear()

    def wake(self):
        """Make `wait_for_change` return now (any thread): e.g. to give up."""
        self.changed.set()

    def leave(self):
        self._turns._leave(self)


_lines = {}
_lines_guard = threading.Lock()  # only ever held for a dict lookup, never while waiting


def turns_for(key):
    """The line for `key` (a loaded model) in this process."""
    key = (os.getpid(), key)
    with _lines_guard:
        turns = _lines.get(key)
        if turns is None:
            turns = _lines[key] = Turns()
        return turns
