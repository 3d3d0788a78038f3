"""Closing an iteration that runs on a native thread of its own
(app/offload.py) returns only once that thread is done with its iterator:
the local model's next answer must never run into a token step still under
way (llama.cpp aborts the whole worker on that)."""

import _thread
import subprocess
import sys
import textwrap
import threading
import time

from app.offload import iterate_on_a_thread_of_its_own


class Model:
    """Token steps on a native thread; the second lasts until the test lets
    it end (a native lock, which the step waits on as llama.cpp computes)."""

    def __init__(self, allocate_lock):
        self.in_use = False
        self.step_began = False
        self._step = allocate_lock()
        self._step.acquire()

    def let_step_end(self):
        self._step.release()

    def tokens(self):
        for n in range(1000):
            self.in_use = True
            if n == 1:
                self.step_began = True
                self._step.acquire()
            self.in_use = False
            yield n


def run_scenario(allocate_lock, sleep, spawn, let_step_end):
    """Take one token, close while the next step is under way; whether the
    model was still in use when close() returned."""
    model = Model(allocate_lock)
    tokens = iterate_on_a_thread_of_its_own(model.tokens)
    assert next(tokens) == 0
    while not model.step_began:
        sleep(0.01)
    seen = {}

    def close():
        tokens.close()
        seen["in use when closed"] = model.in_use

    closer = spawn(close)
    let_step_end(model, closer)
    return seen["in use when closed"]


def test_close_waits_for_the_step_under_way():
    def spawn(function):
        thread = threading.Thread(target=function)
        thread.start()
        return thread

    def let_step_end(model, closer):
        closer.join(0.2)
        assert closer.is_alive(), "close() returned while the model was still mid-step"
        model.let_step_end()
        closer.join()

    assert run_scenario(_thread.allocate_lock, time.sleep, spawn, let_step_end) is False


def test_close_waits_for_the_step_under_way_in_a_gevent_worker_without_blocking_the_hub():
    """As under gunicorn's gevent worker: the closing greenlet waits, others run meanwhile."""
    program = textwrap.dedent("""
        from gevent import monkey; monkey.patch_all()
        import gevent
        from tests.test_offload import run_scenario

        ticks = []

        def let_step_end(model, closer):
            for _ in range(5):  # the hub is free while close() waits
                gevent.sleep(0.01)
                ticks.append(1)
            assert not closer.ready(), "close() returned while the model was still mid-step"
            model.let_step_end()
            closer.join()

        native_lock = monkey.get_original("_thread", "allocate_lock")
        assert run_scenario(native_lock, gevent.sleep, gevent.spawn, let_step_end) is False
        assert len(ticks) == 5
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr
