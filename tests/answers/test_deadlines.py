"""The one ticker that wakes streaming answers at their deadlines."""

import gc
import queue
import time

from app.answers.deadlines import TICK, DeadlineTicker


def test_each_queue_is_woken_at_its_own_time_in_order():
    ticker, late, soon = DeadlineTicker(), queue.SimpleQueue(), queue.SimpleQueue()
    start = time.monotonic()
    ticker.wake_at(start + 0.4, late)
    ticker.wake_at(start + 0.1, soon)  # earlier than the one the ticker waits for
    assert soon.get(timeout=2) is TICK
    woken_soon = time.monotonic() - start
    not_yet, checked_at = late.empty(), time.monotonic() - start
    assert not_yet or checked_at >= 0.4, "not before its time"
    assert late.get(timeout=2) is TICK
    woken_late = time.monotonic() - start
    assert 0.1 <= woken_soon < woken_late and woken_late >= 0.4


def test_a_time_already_past_wakes_at_once():
    ticker, waiting = DeadlineTicker(), queue.SimpleQueue()
    ticker.wake_at(time.monotonic() - 1, waiting)
    assert waiting.get(timeout=2) is TICK


def test_an_answer_that_ended_is_not_kept_alive():
    ticker, gone = DeadlineTicker(), queue.SimpleQueue()
    ticker.wake_at(time.monotonic() + 0.2, gone)
    del gone
    gc.collect()
    check = queue.SimpleQueue()
    ticker.wake_at(time.monotonic() + 0.3, check)
    assert check.get(timeout=2) is TICK  # the ticker went past the dead one
