"""gunicorn settings, picked up by a plain `gunicorn wsgi:app`.

Every value can be overridden: by environment variables named below, by
GUNICORN_CMD_ARGS, or on the command line (in that order of precedence, the
command line winning). The choices are explained in docs/serving.md.
"""

import gc
import logging
import os
import shutil
import sys
import tempfile


def _env_int(name, default):
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# gevent: one greenlet per connection, so thousands of mostly idle streams
# cost little. The sync worker would kill streams at `timeout`; gthread works
# too (GUNICORN_WORKER_CLASS=gthread) but needs a thread per open stream.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
workers = _env_int("GUNICORN_WORKERS", os.cpu_count() or 2)
worker_connections = _env_int("GUNICORN_WORKER_CONNECTIONS", 2000)  # gevent: streams per worker
threads = _env_int("GUNICORN_THREADS", 64)  # gthread only

# `timeout` is how long a worker may stay silent to the arbiter, not a limit
# on a request: gevent and gthread workers keep reporting while streams run.
timeout = _env_int("GUNICORN_TIMEOUT", 60)
# On HUP or a deploy, old workers get this long to finish answers in flight.
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 300)
keepalive = _env_int("GUNICORN_KEEPALIVE", 75)  # above nginx's upstream keepalive_timeout

# Each worker tells the arbiter it is alive by an fchmod on a temporary file
# every second. On a disk-backed /tmp that call can block, and under gevent it
# blocks every stream in the worker (gunicorn's docs, "Blocking os.fchmod");
# /dev/shm is in memory.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR") or ("/dev/shm" if os.path.isdir("/dev/shm") else None)

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# %(L)s: request time in seconds (for a stream, until its last byte); the
# last field is the request's id (app/operations/request_ids.py), which the
# app's own lines for that request carry too.
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(L)ss "%(a)s" %({x-request-id}o)s'
# gunicorn's logger, less the queries that carry credentials (the sign-in
# callback's code and state) in the access log's lines; with
# CHAT_LOG_FORMAT=json its access and error lines are JSON (the format above
# is then unused: the access line's fields are named there).
logger_class = "app.operations.access_log.SecretQueryHidingLogger"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


# Prometheus metrics (CHAT_METRICS=1) in prometheus-client's multiprocess
# mode: every worker writes its samples into one directory, set here in the
# master before any worker imports the app (app/operations/metrics.py).
# In memory (/dev/shm) unless PROMETHEUS_MULTIPROC_DIR says otherwise: the
# samples are memory-mapped files, and on a disk-backed /tmp their page
# faults and write-back cost about 12 us of CPU per streamed piece (15 %,
# docs/benchmarks.md); in memory, nothing measurable.
_made_metrics_dir = None
if os.environ.get("CHAT_METRICS", "").strip().lower() in ("1", "true", "yes", "on"):
    from app.operations.metrics import MULTIPROCESS_DIR_VARIABLE, prepare_multiprocess_dir

    if not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        _made_metrics_dir = tempfile.mkdtemp(prefix="chat-metrics-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    prepare_multiprocess_dir(os.environ.get(MULTIPROCESS_DIR_VARIABLE) or _made_metrics_dir)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)


def child_exit(server, worker):
    # A worker that exited no longer counts in the live gauges.
    from app.operations.metrics import worker_gone

    worker_gone(worker.pid)


def on_starting(server):
    # Check the settings once in the master, before any worker starts: a
    # misconfiguration is one line saying what to set, then exit.
    from app.config import ConfigError, load_config
    from app.providers import check_provider

    try:
        check_provider(load_config())
    except ConfigError as error:
        from app.operations.access_log import printed_line

        print(printed_line(f"chat: configuration error: {error}", logging.ERROR), file=sys.stderr)
        sys.exit(1)


# Written by each worker once the app is loaded in it, whatever the log level:
# what deploy/stack.py (tests, benchmarks, `make stack`) waits for, since
# gunicorn's master listens on the port long before a worker can answer.
WORKER_READY = "worker ready: app loaded"


def post_worker_init(worker):
    from app.operations.access_log import printed_line

    print(printed_line(f"[{worker.pid}] {WORKER_READY}"), file=sys.stderr, flush=True)
    # The app is loaded: move everything it made so far (modules, models,
    # templates) out of the garbage collector's sight. Every full collection
    # would otherwise walk those few hundred thousand objects, and under gevent
    # that pause stops every stream in the worker.
    gc.freeze()
    # gRPC (ChatVertexAI's default transport) must be told about gevent before
    # its first call, or its threads block the hub (app/providers/grpc_gevent.py).
    if worker.cfg.worker_class_str.startswith("gevent"):  # gevent or gevent_pywsgi
        from app.providers.grpc_gevent import cooperate_with_gevent

        try:
            cooperate_with_gevent()
        except ImportError:  # no gRPC installed
            return


def worker_int(worker):
    # SIGINT or SIGQUIT: a quick shutdown, which does not wait for answers.
    worker.quick_exit = True


def worker_exit(server, worker):
    # Answers are generated apart from requests (app/answers/generation.py):
    # on a graceful stop or reload (TERM, HUP) the worker has already let its
    # open streams finish; answers whose tab was closed finish here, within
    # the graceful timeout, instead of being cut off as interrupted.
    if getattr(worker, "quick_exit", False):
        return
    tasks = getattr(worker.wsgi, "extensions", {}).get("answer_tasks")
    if tasks is not None and not tasks.wait(worker.cfg.graceful_timeout):
        worker.log.warning("answers still being generated at exit are left to be marked interrupted")
