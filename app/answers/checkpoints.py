"""Saving every answer this process is generating, together, once a period.

A checkpoint saves an answer's text so far (a reload, another process or a
restarted worker picks up from it), shows that its generator is alive (the
reaper leaves it alone), and finds out whether it was stopped or deleted by
a request any process handled. One transaction per answer per period was 9 %
of a worker's CPU in a burst of 1,000 answers (docs/benchmarks.md): the
transaction's begin and commit, not the row, were most of it. So one task per
process saves all of its live answers in one transaction every
CHAT_CHECKPOINT_SECONDS, and stops those that are no longer streaming.

The task runs while the process generates anything and ends when it does not;
`ensure_running` (called at each claim) starts it again.
"""

import logging
import threading
import time

from app.answers.reply_pipeline import request_stop
from app.storage import answer_notices, queries
from app.storage.models import utcnow

log = logging.getLogger(__name__)


class Checkpoints:
    def __init__(self, engine, live_answers, period_seconds):
        self._engine = engine
        self._live_answers = live_answers
        self._period = period_seconds
        self._lock = threading.Lock()
        self._running = False

    def ensure_running(self):
        """Start the task unless it runs (after registering a live answer)."""
        with self._lock:
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._run, name="checkpoints", daemon=True).start()

    def _run(self):
        while True:
            time.sleep(self._period)
            answers = self._live_answers.all()
            if not answers:
                with self._lock:
                    # Checked again under the lock: an answer registered
                    # meanwhile has its ensure_running wait for this.
                    if not self._live_answers.all():
                        self._running = False
                        return
                continue
            try:
                self.save(answers)
            except Exception:  # noqa: BLE001 - the next period tries again; the answers go on
                log.exception("checkpoint of %d answers failed", len(answers))

    def save(self, answers):
        """Save `answers` (LiveAnswers) now; stop those no longer streaming."""
        with self._engine.begin() as connection:
            still_streaming = queries.save_partials(
                connection, [(live.answer_id, live.text, live.thoughts) for live in answers], utcnow(),
            )
            for live in answers:
                answer_notices.announce(connection, live.answer_id)
        for live in answers:
            if live.answer_id not in still_streaming and live.finished is None:
                request_stop(live.answer_id)  # stopped (or deleted) by a request in any process
