"""OpenTelemetry tracing (app/operations/tracing.py): off, it imports nothing
and costs nothing; on, a request and a model call arrive as spans, over
OTLP/HTTP, at a stand-in collector.

The app is traced in a child process: the global tracer provider is the
process's, set once, and these tests must not leave one behind in the test
process (nor find one an earlier test left)."""

import importlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask

from app.config import ConfigError
from app.operations import tracing
from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30


def run_python(script, *args, **env):
    """Run `script` in a fresh interpreter at the project's root, with the
    test process's environment less any OTEL_* variable, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *args], cwd=ROOT, env={**clean, **env},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def require_opentelemetry():
    try:
        for module in (
            "opentelemetry.sdk.trace", "opentelemetry.exporter.otlp.proto.http.trace_exporter",
            "opentelemetry.instrumentation.flask", "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
        ):
            importlib.import_module(module)
    except ImportError:
        skip_or_fail("opentelemetry is not installed (.venv/bin/pip install -r requirements-otel.txt)")


# --- Tracing off -------------------------------------------------------------------

OFF = """
    import contextlib, json, sys
    from types import SimpleNamespace
    from app import create_app
    from app.operations.tracing import end_model_span, init_tracing, model_call_span, tracing_enabled

    # The app's own imports may load some of OpenTelemetry (langsmith, under
    # langchain-core, imports the SDK's TracerProvider when it is installed):
    # what counts is that tracing adds none.
    def loaded():
        return {name for name in sys.modules if name.startswith("opentelemetry")}

    app = create_app()
    before = loaded()
    init_tracing(app)
    app.test_client().get("/healthz")
    context = model_call_span("gemini-2.5-flash", "vertexai")
    with context as span:
        end_model_span(span, SimpleNamespace(outcome="complete", finish_reason="STOP", usage=None, pieces=1))
    print(json.dumps({
        "added": sorted(loaded() - before),
        "enabled": tracing_enabled(),
        "null_context": isinstance(context, contextlib.nullcontext),
        "shared": context is model_call_span("other", "local"),
        "span": span,
        "instrumented": hasattr(app, "_is_instrumented_by_opentelemetry"),
    }))
"""


def test_off_imports_nothing_and_the_model_span_is_a_shared_null_context(tmp_path):
    result = run_python(OFF, CHAT_PROVIDER="fake", CHAT_DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3")
    assert json.loads(result.stdout.splitlines()[-1]) == {
        "added": [], "enabled": False, "null_context": True, "shared": True, "span": None, "instrumented": False,
    }


def test_on_without_opentelemetry_installed_says_what_to_install(monkeypatch):
    monkeypatch.setenv(tracing.ENDPOINT_VARIABLE, "http://127.0.0.1:9")
    # None in sys.modules: the import fails as if the package were missing.
    monkeypatch.setitem(sys.modules, "opentelemetry.instrumentation.flask", None)
    with pytest.raises(ConfigError, match=r"^OTEL_EXPORTER_OTLP_ENDPOINT is set, but OpenTelemetry is not "
                                          r"installed: \.venv/bin/pip install -r requirements-otel\.txt$"):
        tracing.init_tracing(Flask(__name__))
    assert not tracing.tracing_enabled()


# --- Tracing on --------------------------------------------------------------------


class Collector:
    """An OTLP/HTTP collector's traces endpoint, enough for the exporter:
    POST /v1/traces with a protobuf ExportTraceServiceRequest. `received` is
    set once the spans recorded so far satisfy `until(spans)`."""

    def __init__(self, until):
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest, ExportTraceServiceResponse,
        )

        self.spans, self.problems = [], []
        self.received = threading.Event()
        lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                    collector.problems.append((self.path, self.headers.get("Content-Type")))
                    self.send_error(404)
                    return
                request = ExportTraceServiceRequest.FromString(body)
                with lock:
                    collector.spans.extend(spans_of(request))
                    if until(collector.spans):
                        collector.received.set()
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextmanager
    def running(self):
        thread = threading.Thread(target=self.server.serve_forever, name="otlp-collector", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=WAIT_SECONDS)

    def named(self, name):
        return [span for span in self.spans if span["name"] == name]


def spans_of(request):
    for resource_spans in request.resource_spans:
        resource = attributes_of(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "name": span.name, "kind": span.kind, "attributes": attributes_of(span.attributes),
                    "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(), "status": span.status.code,
                    "events": [event.name for event in span.events], "service": resource.get("service.name"),
                }


def attributes_of(key_values):
    return {item.key: any_value(item.value) for item in key_values}


def any_value(value):
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(item) for item in value.array_value.values]
    return getattr(value, kind) if kind else None


ON = """
    import contextvars, sys, threading
    from types import SimpleNamespace
    from opentelemetry import trace
    from app import create_app
    from app.operations.tracing import end_model_span, init_tracing, model_call_span, tracing_enabled

    database, other_database = sys.argv[1:3]
    app = create_app({"provider": "fake", "database_url": database})
    init_tracing(app)
    # A second app in the process: the tracer provider is not made again.
    init_tracing(create_app({"provider": "fake", "database_url": other_database}))
    assert tracing_enabled()

    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    # Refused by a hook of the app's (cross_site.py) before any other: traced too.
    assert client.post("/messages", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    # A host the app does not serve: its own 400, untraced.
    assert client.get("/healthz", headers={"Host": "elsewhere.example"}).status_code == 400
    # An answer through the reply pipeline: its model call is a span of the request's.
    assert client.post("/api/chat", json={"message": "hi there"}).json["reply"] == "hi there"

    finished = SimpleNamespace(
        outcome="complete", finish_reason="STOP",
        usage=SimpleNamespace(input_tokens=3, output_tokens=5, reasoning_tokens=None), pieces=2,
    )
    with model_call_span("gemini-2.5-flash", "vertexai") as span:
        end_model_span(span, finished)

    # As the pipeline reads the model: on a thread started in a copy of the
    # context, under whatever span is current there.
    def failing_call():
        with model_call_span("gemini-2.5-flash", "vertexai") as span:
            end_model_span(span, None, error=ConnectionResetError("upstream went away"))

    with trace.get_tracer("tests").start_as_current_span("answer"):
        reader = threading.Thread(target=contextvars.copy_context().run, args=(failing_call,))
        reader.start()
        reader.join()
    assert trace.get_tracer_provider().force_flush(20_000)
"""


def test_on_a_request_and_the_model_call_reach_the_collector_as_spans(tmp_path):
    require_opentelemetry()
    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    def complete(spans):
        names = [span["name"] for span in spans]
        return {"GET /healthz", "POST /messages", "POST /api/chat", "answer"} <= set(names) and names.count("model.stream") == 3

    collector = Collector(until=complete)
    with collector.running():
        result = run_python(
            ON, f"sqlite:///{tmp_path}/a.sqlite3", f"sqlite:///{tmp_path}/b.sqlite3",
            OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint, OTEL_BSP_SCHEDULE_DELAY="100",
            OTEL_SERVICE_NAME="chat-tests", CHAT_DEBUG="1",
        )
        assert collector.received.wait(WAIT_SECONDS), (collector.spans, collector.problems, result.stderr[-3000:])
    assert "Overriding of current TracerProvider" not in result.stderr
    assert not collector.problems

    (health,) = collector.named("GET /healthz")
    assert health["kind"] == Span.SPAN_KIND_SERVER and health["service"] == "chat-tests"
    assert health["attributes"]["http.route"] == "/healthz"
    (refused,) = collector.named("POST /messages")
    assert refused["attributes"]["http.status_code"] == 403
    assert len(collector.spans) == 7, [span["name"] for span in collector.spans]  # no span for the other host

    (api,) = collector.named("POST /api/chat")
    (piped,) = [span for span in collector.named("model.stream") if span["parent_span_id"] == api["span_id"]]
    assert piped["attributes"]["chat.outcome"] == "complete" and piped["attributes"]["chat.pieces"] >= 1
    completed, failed = sorted((span for span in collector.named("model.stream") if span is not piped),
                               key=lambda span: span["status"])
    assert completed["kind"] == Span.SPAN_KIND_CLIENT and completed["parent_span_id"] == ""
    assert completed["attributes"] == {
        "gen_ai.operation.name": "chat", "gen_ai.system": "vertex_ai", "gen_ai.provider.name": "gcp.vertex_ai",
        "gen_ai.request.model": "gemini-2.5-flash", "gen_ai.response.finish_reasons": ["STOP"],
        "gen_ai.usage.input_tokens": 3, "gen_ai.usage.output_tokens": 5, "chat.outcome": "complete",
        "chat.pieces": 2,
    }
    (answer,) = collector.named("answer")
    assert (failed["trace_id"], failed["parent_span_id"]) == (answer["trace_id"], answer["span_id"])
    assert failed["status"] == Status.STATUS_CODE_ERROR and failed["events"] == ["exception"]
    assert failed["attributes"]["error.type"] == "ConnectionResetError"


# --- Credentials in a request's query ------------------------------------------------

SIGN_IN_CALLBACK = """
    import json, sys
    from urllib.parse import parse_qs, urlsplit
    import requests
    from opentelemetry import trace
    from app import create_app
    from app.operations.logs import configure_logging
    from app.operations.tracing import init_tracing

    database, issuer = sys.argv[1:3]
    configure_logging("text")  # the app's own lines, on stderr
    app = create_app({"provider": "fake", "database_url": database, "auth": "oidc", "oidc_issuer": issuer,
                      "oidc_client_id": "chat-tests", "oidc_client_secret": "chat-tests-secret"})
    init_tracing(app)
    client = app.test_client()
    start = client.get("/sign-in/start")
    back = requests.post(start.headers["Location"], data={"sub": "alice"}, allow_redirects=False,
                         timeout=10).headers["Location"]
    assert client.get(back).status_code == 303, "signed in"
    assert client.get("/sign-in/callback?code=forged-code-0123456789&state=forged-state-0123456789").status_code == 400
    assert client.get("/healthz?token=a-token-0123456789&verbose=1").status_code == 200
    assert trace.get_tracer_provider().force_flush(20_000)
    query = parse_qs(urlsplit(back).query)
    print(json.dumps([query["code"][0], query["state"][0], "forged-code-0123456789", "forged-state-0123456789",
                      "a-token-0123456789"]))
"""


@pytest.mark.parametrize("semantic_conventions", ["", "http/dup"])
def test_the_sign_in_callbacks_code_and_state_are_in_no_span_and_no_log_line(tmp_path, semantic_conventions):
    """A span's http.target (url.query in the newer conventions) carried the
    provider's one-time code and the sign-in's state to the collector."""
    require_opentelemetry()
    from tests.auth.oidc_provider import running_provider

    def complete(spans):
        names = [span["name"] for span in spans]
        return names.count("GET /sign-in/callback") == 2 and "GET /healthz" in names

    collector = Collector(until=complete)
    with running_provider() as provider, collector.running():
        provider.set_person("alice", email="alice@example.com", email_verified=True)
        result = run_python(
            SIGN_IN_CALLBACK, f"sqlite:///{tmp_path}/a.sqlite3", provider.issuer,
            OTEL_EXPORTER_OTLP_ENDPOINT=collector.endpoint, OTEL_BSP_SCHEDULE_DELAY="100", CHAT_DEBUG="1",
            OTEL_SEMCONV_STABILITY_OPT_IN=semantic_conventions,
        )
        assert collector.received.wait(WAIT_SECONDS), (collector.spans, collector.problems, result.stderr[-3000:])
    secrets = json.loads(result.stdout.splitlines()[-1])
    for span in collector.spans:
        for name, value in span["attributes"].items():
            assert not any(secret in str(value) for secret in secrets), (span["name"], name, value)
    for secret in secrets:
        assert secret not in result.stderr, "an app log line"
    callbacks = collector.named("GET /sign-in/callback")
    (health,) = collector.named("GET /healthz")
    if semantic_conventions:
        assert [span["attributes"]["url.path"] for span in callbacks] == ["/sign-in/callback"] * 2
        assert not any("url.query" in span["attributes"] for span in (*callbacks, health))
    else:
        assert [span["attributes"]["http.target"] for span in callbacks] == ["/sign-in/callback"] * 2
        assert health["attributes"]["http.target"] == "/healthz"
