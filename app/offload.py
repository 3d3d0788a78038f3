"""Running blocking, CPU-bound model code without stalling gevent's hub.

Under gunicorn's gevent worker every connection shares one OS thread; a
llama.cpp token step holds it for tens of milliseconds. Each step is therefore
run on gevent's native thread pool (llama.cpp releases the GIL while it
computes). Without gevent, iteration is plain.
"""

_DONE = object()


def _gevent_patched_threads():
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("threading")


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
