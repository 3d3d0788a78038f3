"""Prometheus metrics, right across gunicorn's workers.

With CHAT_METRICS=1 gunicorn.conf.py gives every worker one directory,
PROMETHEUS_MULTIPROC_DIR, before the app (and prometheus-client) is
imported: each process writes its samples to files there, and whichever
worker serves GET /metrics adds them all up (prometheus-client's multiprocess
mode), so a scrape sees the whole server, not one worker's share. Without the
directory (the tests' Flask client, `python -m app`) the process's own
registry is served.

Metrics off (the default), the app gets `NO_METRICS`, whose methods do
nothing, so the answer's path costs one attribute lookup and a call.
"""

import copy
import functools
import os

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Seconds: the model's first piece and a whole answer.
FIRST_PIECE_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60)
ANSWER_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600)
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# A label whose value a client chooses must come from a closed set: every
# new value is a new series in every worker's file and in every scrape, so
# made-up methods (nginx passes any word as one) would grow them without end.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER = "other"


def method_label(method):
    return method if method in HTTP_METHODS else OTHER


def status_label(status):
    return str(status) if isinstance(status, int) and 100 <= status <= 599 else OTHER


@functools.cache
def _families():
    """The metric objects, made once per process (prometheus-client keeps
    them in a global registry, and tests build many apps)."""
    from prometheus_client import Counter, Gauge, Histogram

    return {
        "answers": Counter("chat_answers", "Answers ended, by outcome", ["outcome", "provider", "model"]),
        # livesum: the answers of the processes alive now, added up.
        "streaming": Gauge("chat_answers_streaming", "Answers being generated now", multiprocess_mode="livesum"),
        "first_piece": Histogram("chat_answer_first_piece_seconds", "Time to an answer's first piece",
                                 ["provider", "model"], buckets=FIRST_PIECE_BUCKETS),
        "duration": Histogram("chat_answer_duration_seconds", "Time to an answer's end",
                              ["provider", "model"], buckets=ANSWER_BUCKETS),
        "tokens": Counter("chat_model_tokens", "Tokens the model reported", ["kind", "model"]),
        "upstream_errors": Counter("chat_upstream_errors", "Model calls that failed, by kind", ["kind"]),
        "retries": Counter("chat_upstream_retries", "Model calls tried again"),
        "rate_limited": Counter("chat_rate_limited", "Requests refused by a rate limit", ["limit"]),
        "http_requests": Counter("chat_http_requests", "HTTP requests", ["route", "method", "status"]),
        "http_seconds": Histogram("chat_http_request_duration_seconds",
                                  "Time to a response's start (a stream: until its headers)", ["route", "method"],
                                  buckets=HTTP_BUCKETS),
    }


class Metrics:
    """What the app reports; `provider` and `model` label the answers."""

    def __init__(self, provider, model):
        self.provider, self.model = provider, model
        self._m = _families()

    def for_model(self, model):
        """These metrics with answers labelled `model`, the one the conversation
        chose (ModelChoices.choose: one of CHAT_MODELS, a closed set)."""
        labelled = copy.copy(self)  # the same families, another label
        labelled.model = model
        return labelled

    # --- answers (app/answers/reply_pipeline.py calls these) --------------------

    def answer_started(self):
        self._m["streaming"].inc()

    def answer_finished(self, finished):
        m, labels = self._m, (self.provider, self.model)
        m["streaming"].dec()
        m["answers"].labels(finished.outcome, *labels).inc()
        m["duration"].labels(*labels).observe(finished.seconds)
        if finished.first_piece_seconds is not None:
            m["first_piece"].labels(*labels).observe(finished.first_piece_seconds)
        usage = finished.usage
        if usage is not None:
            m["tokens"].labels("input", self.model).inc(usage.input_tokens)
            m["tokens"].labels("output", self.model).inc(usage.output_tokens)
            if usage.reasoning_tokens:
                m["tokens"].labels("reasoning", self.model).inc(usage.reasoning_tokens)

    def upstream_error(self, kind):
        self._m["upstream_errors"].labels(kind).inc()

    def upstream_retry(self):
        self._m["retries"].inc()

    # --- requests -------------------------------------------------------------------

    def rate_limited(self, limit):
        self._m["rate_limited"].labels(limit).inc()

    def http_request(self, route, method, status, seconds):
        """`route` is the app's own rule (or "unmatched"); `method` and
        `status` are brought into their closed sets here."""
        method = method_label(method)
        self._m["http_requests"].labels(route, method, status_label(status)).inc()
        self._m["http_seconds"].labels(route, method).observe(seconds)


class NoMetrics:
    """Metrics off: every report is a no-op."""

    def for_model(self, model):
        return self

    def answer_started(self):
        pass

    def answer_finished(self, finished):
        pass

    def upstream_error(self, kind):
        pass

    def upstream_retry(self):
        pass

    def rate_limited(self, limit):
        pass

    def http_request(self, route, method, status, seconds):
        pass


NO_METRICS = NoMetrics()


def build_metrics(config):
    return Metrics(config.provider, config.model) if config.metrics else NO_METRICS


def exposition():
    """(body, content type) of a scrape: every worker's samples if there is a
    multiprocess directory, else this process's."""
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST


def prepare_multiprocess_dir(path):
    """Gunicorn's master, before it forks: an empty directory for this run's
    samples (files left by an earlier run would be added in)."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path, mode=0o700)
    os.environ[MULTIPROCESS_DIR_VARIABLE] = str(path)


def worker_gone(pid):
    """Gunicorn's master, when a worker exits: its live gauges stop counting."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
