"""Running blocking, CPU-bound work without stalling gevent's hub.

Under gunicorn's gevent worker every connection shares one OS thread: a
llama.cpp token step (tens of milliseconds) or highlighting a long code block
would hold up every other stream of the worker. Such work runs on gevent's
native thread pool instead: llama.cpp releases the GIL while it computes, and
Python code there yields the GIL to the hub every few milliseconds (the
interpreter's switch interval). Without gevent, it runs as it is.
"""

_DONE = object()


def _gevent_patched_threads():
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("threading")


def run_off_the_hub(function):
    """function() on gevent's native thread pool (plainly without gevent); its result."""
    if not _gevent_patched_threads():
        return function()
    import gevent

    return gevent.get_hub().threadpool.apply(function)


def iterate_off_the_hub(iterator):
    if not _gevent_patched_threads():
        yield from iterator
        return
    import gevent

    pool = gevent.get_hub().threadpool
    while True:
        item = pool.apply(next, (iterator, _DONE))
        if item is _DONE:
            return
        yield item


def iterate_on_a_thread_of_its_own(make_iterator):
    """Iterate `make_iterator()` on a native thread started for it, handing
    each item to the caller as it comes; errors are raised in the caller.

    For a long native computation that yields as it goes (llama.cpp's
    tokens): it runs at its own pace, never waiting for the hub, and the
    caller waits for the next item without blocking the hub. Closing the
    returned generator stops the thread after its current item and closes
    the iterator there, on the thread that ran it, and returns only once the
    thread is done: whatever the iterator uses (a llama.cpp context) is free
    again when close() returns, so the next user cannot run into the token
    step still under way (llama.cpp aborts the process on that).
    """
    channel = _HubChannel() if _gevent_patched_threads() else _PlainChannel()
    leaving = []  # non-empty once the caller has gone: read by the thread

    def produce():
        try:
            iterator = make_iterator()
            try:
                for item in iterator:
                    channel.put((True, item))
                    if leaving:
                        break
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
            channel.put((False, _DONE))
        except BaseException as exc:  # noqa: BLE001 - raised in the caller
            channel.put((False, exc))

    _start_native_thread(produce)
    finished = False
    try:
        while True:
            ok, item = channel.get()
            if ok:
                yield item
            else:
                finished = True
                if item is _DONE:
                    return
                raise item
    finally:
        leaving.append(True)
        # The caller went away mid-iteration: wait (without blocking the hub)
        # for the thread to finish its current item and close the iterator.
        while not finished:
            finished = not channel.get()[0]


def _start_native_thread(function):
    if _gevent_patched_threads():
        from gevent import monkey

        monkey.get_original("_thread", "start_new_thread")(function, ())
    else:
        import threading

        threading.Thread(target=function, name="native-iterator", daemon=True).start()


class _PlainChannel:
    def __init__(self):
        import queue

        self._items = queue.SimpleQueue()
        self.put = self._items.put
        self.get = self._items.get


class _HubChannel:
    """From one native thread to one greenlet: the thread appends and asks the
    hub's mailbox to wake the greenlet; the greenlet waits on a gevent event."""

    def __init__(self):
        import collections

        from gevent.event import Event

        self._items = collections.deque()
        self._ready = Event()
        self._mailbox = _hub_mailbox()

    def put(self, item):  # on the native thread
        self._items.append(item)
        self._mailbox.wake(self._ready)

    def get(self):  # on the greenlet
        while True:
            self._ready.clear()  # before looking: a put after this look wakes it again
            if self._items:
                return self._items.popleft()
            self._ready.wait()


_mailboxes = {}


def _hub_mailbox():
    import gevent

    hub = gevent.get_hub()
    mailbox = _mailboxes.get(id(hub))
    if mailbox is None or mailbox.hub is not hub:
        mailbox = _mailboxes[id(hub)] = _HubMailbox(hub)
    return mailbox


class _HubMailbox:
    """Native threads wake greenlets through one async watcher per hub (as
    app/providers/grpc_gevent.py does): the events to set are queued, and the
    hub sets them all on its next turn. One watcher for good, so none is ever
    closed while a thread may still send on it."""

    def __init__(self, hub):
        import collections

        self.hub = hub
        self._events = collections.deque()
        self._watcher = hub.loop.async_()
        self._watcher.start(self._set_all)

    def wake(self, event):  # any thread
        self._events.append(event)
        self._watcher.send()

    def _set_all(self):  # on the hub
        while self._events:
            self._events.popleft().set()
