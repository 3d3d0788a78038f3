"""Prometheus metrics in one process (the Flask client): what each event
counts, the scrape's access rules, and that the shipped dashboard and alerts
name only metrics the app has. (Across gunicorn's workers:
tests/end_to_end/test_operations_gunicorn.py.)"""

import json
import re
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from app.operations.metrics import _families
from tests.page_flow import post_and_subscribe, read_all, send
from tests.scripted_model import ScriptedChatModel

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
USAGE = {"input_tokens": 12, "output_tokens": 30, "total_tokens": 42, "output_token_details": {"reasoning": 7}}


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """The change of samples over a block: the registry is the process's,
    shared by every test."""

    def __init__(self, *samples):
        self.samples = samples

    def __enter__(self):
        self.before = [value(name, **labels) for name, labels in self.samples]
        return self

    def __exit__(self, *exc):
        self.changes = [value(name, **labels) - before for (name, labels), before in zip(self.samples, self.before)]


def answers(outcome, model="scripted"):
    return "chat_answers_total", {"outcome": outcome, "provider": "fake", "model": model}


def test_answers_are_counted_by_outcome_with_their_tokens_and_times(make_app):
    model = ScriptedChatModel(pieces=["a ", "b"], finish_reason="STOP", usage=USAGE)
    app = make_app(chat_model=model, model="scripted", metrics=True)
    client = app.test_client()
    tracked = Delta(
        answers("complete"), answers("truncated"), answers("error"),
        ("chat_model_tokens_total", {"kind": "input", "model": "scripted"}),
        ("chat_model_tokens_total", {"kind": "reasoning", "model": "scripted"}),
        ("chat_answer_first_piece_seconds_count", {"provider": "fake", "model": "scripted"}),
        ("chat_upstream_errors_total", {"kind": "other"}),
        ("chat_answers_streaming", {}),
    )
    with tracked:
        send(client, "one")
        client.post("/api/chat", json={"message": "two"})
        model.finish_reason = "MAX_TOKENS"
        send(client, "three")
        model.fail_after = 0
        send(client, "four")
    assert tracked.changes == [2, 1, 1, 36, 21, 3, 1, 0]


def test_http_requests_are_counted_by_route_not_path(make_app):
    client = make_app(metrics=True).test_client()
    sample = ("chat_http_requests_total", {"route": "/c/<conversation_id>", "method": "GET", "status": "404"})
    with Delta(sample) as tracked:
        client.get("/c/nothing-here")
        client.get("/c/nor-here")
    assert tracked.changes == [2]


def http_label_values(label):
    return {sample.labels[label] for family in text_string_to_metric_families(_scrape())
            if family.name == "chat_http_requests" for sample in family.samples}


def _scrape():
    from prometheus_client import generate_latest

    return generate_latest(REGISTRY).decode()


def test_made_up_http_methods_are_counted_as_other_not_one_series_each(make_app):
    """An attacker's 10,000 invented methods (nginx passes any word as one)
    must not make 10,000 series in every worker's file and every scrape."""
    client = make_app(metrics=True).test_client()
    other = ("chat_http_requests_total", {"route": "unmatched", "method": "other", "status": "405"})
    with Delta(other) as tracked:
        for number in range(10_000):
            client.open("/", method=f"M{number:05d}AAAA")
    assert tracked.changes == [10_000]
    assert http_label_values("method") <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}


def test_rate_limited_requests_are_counted_by_the_limit_that_refused(make_app):
    client = make_app(metrics=True, rate_messages_per_minute=1).test_client()
    with Delta(("chat_rate_limited_total", {"limit": "messages"})) as tracked:
        assert client.post("/api/chat", json={"message": "a"}).status_code == 200
        assert client.post("/api/chat", json={"message": "b"}).status_code == 429
    assert tracked.changes == [1]


def test_the_scrape_is_prometheus_text_and_only_there_when_asked_for(make_app):
    assert make_app().test_client().get("/metrics").status_code == 404, "off by default"
    response = make_app(metrics=True).test_client().get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    names = {family.name for family in text_string_to_metric_families(response.get_data(as_text=True))}
    assert {"chat_answers", "chat_answers_streaming", "chat_http_requests"} <= names


def test_a_metrics_token_is_required_when_set(make_app):
    client = make_app(metrics=True, metrics_token="s3cret-token").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


@pytest.mark.parametrize("file", ["grafana-dashboard.json", "prometheus-alerts.yml"])
def test_the_dashboard_and_alerts_name_only_metrics_the_app_has(file):
    text = (DEPLOY / file).read_text()
    if file.endswith(".json"):
        json.loads(text)
    exported = set()
    for family in _families().values():
        for metric in family.describe():
            exported.add(metric.name)
            exported.update(f"{metric.name}{suffix}" for suffix in ("_total", "_bucket", "_sum", "_count"))
    used = set(re.findall(r"\bchat_[a-z_]+", text))
    assert used and used <= exported, used - exported


def test_answers_are_labelled_with_the_model_their_conversation_chose(make_app):
    """Not the default whatever was chosen (the review's finding), and a name
    nobody allowed becomes no label of its own."""
    model = ScriptedChatModel(pieces=["a"], finish_reason="STOP")
    app = make_app(chat_model=model, model="scripted", models=("scripted", "scripted-pro"), metrics=True)
    client = app.test_client()
    with Delta(answers("complete"), answers("complete", model="scripted-pro")) as tracked:
        client.post("/api/chat", json={"message": "one", "model": "scripted-pro"})
        client.post("/api/chat", json={"message": "two"})
        read_all(post_and_subscribe(client, "three", model="scripted-pro"))
        send(client, "four")
    assert tracked.changes == [2, 2]


def test_guessing_the_metrics_token_is_answered_429_like_guessing_api_keys(make_app):
    client = make_app(metrics=True, metrics_token="s3cret-token", rate_failed_auth_per_hour=5).test_client()
    statuses = [client.get("/metrics", headers={"Authorization": f"Bearer guess-{n}"}).status_code
                for n in range(8)]
    assert statuses == [401] * 5 + [429] * 3
    right = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert right.status_code == 429 and right.headers["Retry-After"], "a guess that lands looks like one that misses"
    elsewhere = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"},
                           environ_overrides={"REMOTE_ADDR": "198.51.100.4"})
    assert elsewhere.status_code == 200
