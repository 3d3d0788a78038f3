"""Answers being generated in this process, as logs their subscribers follow.

An answer's log is its text so far: the offset of a piece is the length of the
text before it, so "replay from offset N" is `text[N:]`, and the offset is
the SSE event id a browser sends back as Last-Event-ID. The generating task
appends pieces (and thoughts, kept apart: they have no offsets, a
subscriber gets all of them when it starts) and finally the `Finished`
outcome; any number of
subscribers in this process wait on the answer's condition and are woken at
once. Subscribers in other processes read the checkpoints in the database
instead (app/answers/subscription.py).
"""

import threading


class LiveAnswer:
    def __init__(self, answer_id):
        self.answer_id = answer_id
        self._parts = []
        self._thoughts = []
        self.finished = None  # reply_pipeline.Finished, once the answer has ended
        # What it waits for before its first piece (providers.waiting), and
        # how many times that changed: a reader shows each change once.
        self.waiting = ""
        self.waiting_changes = 0
        self._lock = threading.Lock()
        # One event per waiting subscriber, set by the next change. (Cheaper
        # than a threading.Condition under gevent, whose waits allocate and
        # juggle a lock each.)
        self._waiting = []

    def append(self, text):
        with self._lock:
            self._parts.append(text)
            waiting, self._waiting = self._waiting, []
        for event in waiting:
            event.set()

    def append_thought(self, text):
        with self._lock:
            self._thoughts.append(text)
            waiting, self._waiting = self._waiting, []
        for event in waiting:
            event.set()

    def set_waiting(self, text):
        with self._lock:
            if text == self.waiting:
                return
            self.waiting = text
            self.waiting_changes += 1
            waiting, self._waiting = self._waiting, []
        for event in waiting:
            event.set()

    @property
    def thoughts(self):
        with self._lock:
            return "".join(self._thoughts)

    def finish(self, finished):
        with self._lock:
            self.finished = finished
            waiting, self._waiting = self._waiting, []
        for event in waiting:
            event.set()

    def reader(self, offset):
        """A reader of this log from character `offset` (an offset past the text
        so far reads from its end)."""
        with self._lock:
            text = "".join(self._parts)
            return LogReader(self, text[:offset], text[offset:], len(self._parts))

    @property
    def text(self):
        with self._lock:
            return "".join(self._parts)

    @property
    def part_count(self):
        return len(self._parts)

    @property
    def thought_count(self):
        return len(self._thoughts)

    def wait_beyond(self, part_index, thought_index, timeout, waiting_changes=None):
        """Wait until there is a part past `part_index`, a thought past
        `thought_index`, a change of what it waits for past `waiting_changes`,
        or the answer has ended, at most `timeout` seconds; True if any happened."""
        with self._lock:
            if (len(self._parts) > part_index or len(self._thoughts) > thought_index or self.finished is not None
                    or (waiting_changes is not None and self.waiting_changes > waiting_changes)):
                return True
            changed = threading.Event()
            self._waiting.append(changed)
        return changed.wait(timeout)

    def parts_from(self, part_index):
        with self._lock:
            return self._parts[part_index:], len(self._parts)

    def thoughts_from(self, thought_index):
        with self._lock:
            return self._thoughts[thought_index:], len(self._thoughts)


class LogReader:
    """One subscriber's place in a LiveAnswer: each read costs the new text only."""

    def __init__(self, live, before, pending, part_index):
        self._live = live
        self.before = before  # the text before the reader's offset
        self._pending = pending  # the replay, handed out by the first read
        self._part_index = part_index
        self._thought_index = 0  # every thought is handed out by the first read_thoughts
        self._waiting_changes = 0  # the first read_waiting hands out what it waits for now

    def read(self, timeout):
        """The text that came since the last read ("" if none came within
        `timeout` seconds, or the answer has ended)."""
        if self._pending:
            text, self._pending = self._pending, ""
            return text
        self._live.wait_beyond(self._part_index, self._thought_index, timeout, self._waiting_changes)
        parts, self._part_index = self._live.parts_from(self._part_index)
        return "".join(parts)

    def read_waiting(self):
        """What the answer waits for, if that changed since the last call
        (None if not; "" once it waits no more), without waiting."""
        changes = self._live.waiting_changes
        if changes == self._waiting_changes:
            return None
        self._waiting_changes = changes
        return self._live.waiting

    def read_thoughts(self):
        """The thoughts that came since the last call, without waiting (the
        first call: every thought so far)."""
        if self._thought_index == self._live.thought_count:
            return ""
        thoughts, self._thought_index = self._live.thoughts_from(self._thought_index)
        return "".join(thoughts)

    @property
    def finished(self):
        """How the answer ended, once every part of it has been read."""
        if self._pending or self._part_index < self._live.part_count:
            return None
        return self._live.finished


class LiveAnswers:
    """The answers an app is generating in this process, by id."""

    def __init__(self):
        self._live = {}
        self._lock = threading.Lock()

    def register(self, answer_id):
        live = LiveAnswer(answer_id)
        with self._lock:
            self._live[answer_id] = live
        return live

    def find(self, answer_id):
        return self._live.get(answer_id)

    def all(self):
        with self._lock:
            return list(self._live.values())

    def forget(self, answer_id):
        with self._lock:
            self._live.pop(answer_id, None)

    def __len__(self):
        return len(self._live)
