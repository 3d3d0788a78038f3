"""OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set.

On, every request is a span (opentelemetry-instrumentation-flask) and so is
every call of the model ("model.stream", named in the GenAI semantic
conventions' terms), sent in batches over OTLP/HTTP (protobuf) to the
collector at that endpoint: the exporter adds /v1/traces itself, and reads
the other standard variables (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, _HEADERS,
_TIMEOUT, OTEL_BSP_*...) too. HTTP rather than gRPC: it needs nothing of
gRPC's to be told about gevent, and a plain request is cooperative under it.

Off (the default), nothing of OpenTelemetry is imported, whether installed
or not, and `model_call_span` hands back one shared do-nothing context, so
the answer's path costs a global lookup and a call. The packages are an
extra, requirements-otel.txt, which the app does not need to run.
"""

import contextlib
import functools
import os
import threading
from typing import NamedTuple

from flask import request
from werkzeug.exceptions import SecurityError
from werkzeug.wsgi import get_host

from app.config import ConfigError
from app.operations.secret_queries import is_secret_query, without_secret_query

ENDPOINT_VARIABLE = "OTEL_EXPORTER_OTLP_ENDPOINT"
DEFAULT_SERVICE_NAME = "chat"
MODEL_SPAN_NAME = "model.stream"
# The GenAI conventions' name for Vertex AI was "vertex_ai" in gen_ai.system,
# which they have since renamed gen_ai.provider.name ("gcp.vertex_ai"): both
# are set, for backends of either age. Other providers are named as the app
# names them (CHAT_PROVIDER): the conventions have no name for them.
_SYSTEM_NAMES = {"vertexai": "vertex_ai"}
_PROVIDER_NAMES = {"vertexai": "gcp.vertex_ai"}

_NO_SPAN = contextlib.nullcontext()
_UNTRACED = "chat.untraced"  # in the WSGI environ of a request left untraced
_NOT_INSTALLED = (
    f"{ENDPOINT_VARIABLE} is set, but OpenTelemetry is not installed: "
    ".venv/bin/pip install -r requirements-otel.txt"
)
# Made once per process, by the first init_tracing that finds the endpoint:
# the global tracer provider can be set only once, and tests build many apps.
_provider = None
_tracer = None  # None: tracing is off
_lock = threading.Lock()


class ModelCallEnd(NamedTuple):
    """What `end_model_span` reads, for a caller with no `Finished` at hand
    (a model call ends before its answer does)."""

    outcome: str | None
    finish_reason: str | None = None
    usage: object = None  # app.providers.ending.Usage
    pieces: int | None = None


def tracing_enabled():
    return _tracer is not None


def init_tracing(app):
    """Trace `app`'s requests, and the model's calls, if OTEL_EXPORTER_OTLP_ENDPOINT
    is set; else do nothing at all (nor on a second call for the same app).
    A ConfigError if it is set but OpenTelemetry is not installed.

    Call it before ProxyFix wraps `app.wsgi_app`, so that the span, and the
    check of the host below, see the request as the app does (the client's
    address, scheme and host)."""
    if not os.environ.get(ENDPOINT_VARIABLE, "").strip() or app.extensions.get("tracing"):
        return
    try:
        from opentelemetry.instrumentation.flask import FlaskInstrumentor
    except ImportError as error:
        raise ConfigError(_NOT_INSTALLED) from error
    FlaskInstrumentor().instrument_app(app, tracer_provider=_start_provider())
    _untraced_when_host_not_trusted(app)
    app.extensions["tracing"] = True


def _start_provider():
    """The process's tracer provider, made at the first call.

    Under gunicorn this runs in each worker, after the fork (the app is not
    preloaded in the master), so the batch processor's export thread starts
    in the worker whose spans it sends. Under gevent that thread is a
    greenlet: its waits and its HTTP requests are monkeypatched.
    """
    global _provider, _tracer
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as error:
        raise ConfigError(_NOT_INSTALLED) from error
    with _lock:
        if _provider is None:
            # A service name given here wins over OTEL_SERVICE_NAME, so that
            # is read here; OTEL_RESOURCE_ATTRIBUTES the SDK merges in.
            name = os.environ.get("OTEL_SERVICE_NAME", "").strip() or DEFAULT_SERVICE_NAME
            provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
            # OTLPSpanExporter() reads the endpoint (adding /v1/traces),
            # headers and timeout from the environment, BatchSpanProcessor
            # its delay and queue sizes (OTEL_BSP_*).
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            # Global as well, so that libraries' own spans join the same
            # traces; ours use `provider` itself, so they are sent even if
            # something else had set the global one first (which warns).
            trace.set_tracer_provider(provider)
            _provider, _tracer = provider, provider.get_tracer(__name__)
    return _provider


def _untraced_when_host_not_trusted(app):
    """Leave requests for a host the app does not serve (TRUSTED_HOSTS) to
    the app alone, untraced: the instrumentation reads `request.url` in its
    hooks and its start_response, which for such a host raises SecurityError
    there, so the app's own 400 would become a server error."""
    traced, untraced = app.wsgi_app, app._original_wsgi_app

    def wsgi_app(environ, start_response):
        trusted = app.config["TRUSTED_HOSTS"]
        if trusted is not None:
            try:
                get_host(environ, trusted)
            except SecurityError:
                environ[_UNTRACED] = True
                return untraced(environ, start_response)
        return traced(environ, start_response)

    app.wsgi_app = wsgi_app
    # Flask runs before_request hooks in order and teardowns last-registered
    # first: the request's span starts before the app's own hooks (one that
    # refuses a request skips those after it, and a refused request is worth
    # a span too) and ends after its teardowns.
    for registry, name in (
        (app.before_request_funcs, "_before_request"), (app.teardown_request_funcs, "_teardown_request"),
    ):
        hook, hooks = getattr(app, name), registry[None]
        guarded = _unless_untraced(_without_secret_query(hook) if name == "_before_request" else hook)
        hooks.remove(hook)
        hooks.insert(0, guarded)
        setattr(app, name, guarded)  # what FlaskInstrumentor.uninstrument_app removes


def _without_secret_query(hook):
    """The instrumentation's hook that starts the request's span reads the
    address for its attributes (http.target, http.url, url.query) from the
    WSGI environ: while it runs, that address has no query if the query
    carries a credential (the sign-in callback's code and state,
    secret_queries.py). The request object read its query before, so the
    view still gets it."""

    @functools.wraps(hook)
    def hook_without_secret_query(*args):
        environ = request.environ
        path = environ.get("PATH_INFO", "")
        if not is_secret_query(path, environ.get("QUERY_STRING", "")):
            return hook(*args)
        saved = {key: environ[key] for key in ("QUERY_STRING", "RAW_URI", "REQUEST_URI") if key in environ}
        environ["QUERY_STRING"] = ""
        for key in ("RAW_URI", "REQUEST_URI"):
            if key in environ:
                environ[key] = without_secret_query(environ[key], path)
        try:
            return hook(*args)
        finally:
            environ.update(saved)

    return hook_without_secret_query


def _unless_untraced(hook):
    @functools.wraps(hook)
    def guarded(*args):
        return None if request.environ.get(_UNTRACED) else hook(*args)

    return guarded


def model_call_span(model_name, provider):
    """A context for one call of the model: the "model.stream" span, current
    within it (yielded, for `end_model_span`), or with tracing off a shared
    do-nothing context that yields None."""
    if _tracer is None:
        return _NO_SPAN
    from opentelemetry.trace import SpanKind

    return _tracer.start_as_current_span(MODEL_SPAN_NAME, kind=SpanKind.CLIENT, attributes={
        "gen_ai.operation.name": "chat",
        "gen_ai.system": _SYSTEM_NAMES.get(provider, provider),
        "gen_ai.provider.name": _PROVIDER_NAMES.get(provider, provider),
        "gen_ai.request.model": model_name or "",
    })


def end_model_span(span, finished, error=None):
    """Put how the model call ended on its span: `finished` has `outcome`,
    `finish_reason`, `usage` (input_tokens, output_tokens, reasoning_tokens;
    or None) and `pieces` (a Finished, a ModelCallEnd; any may be missing or
    None), `error` the exception it failed with. Nothing with tracing off
    (`span` None). The span ends where its `with` does."""
    if span is None:
        return
    attributes = {}
    finish_reason = getattr(finished, "finish_reason", None)
    if finish_reason:
        attributes["gen_ai.response.finish_reasons"] = (finish_reason,)
    usage = getattr(finished, "usage", None)
    if usage is not None:
        attributes["gen_ai.usage.input_tokens"] = usage.input_tokens
        attributes["gen_ai.usage.output_tokens"] = usage.output_tokens
        if usage.reasoning_tokens is not None:
            attributes["gen_ai.usage.reasoning.output_tokens"] = usage.reasoning_tokens
    outcome = getattr(finished, "outcome", None)
    if outcome:
        attributes["chat.outcome"] = outcome
    pieces = getattr(finished, "pieces", None)
    if pieces is not None:
        attributes["chat.pieces"] = pieces
    span.set_attributes(attributes)
    if error is not None or outcome == "error":
        from opentelemetry.trace import Status, StatusCode

        if error is not None:
            # The exception was handed on, not raised through the `with`,
            # which would have recorded it.
            span.record_exception(error)
            span.set_attribute("error.type", type(error).__qualname__)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__ if error is not None else finish_reason))
