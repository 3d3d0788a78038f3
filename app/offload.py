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
