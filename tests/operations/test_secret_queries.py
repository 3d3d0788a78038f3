"""Queries that carry credentials are dropped wherever a request's address is
written down: gunicorn's access log (here through its own logger class, as
gunicorn calls it; through a real gunicorn: tests/end_to_end/test_nginx_sign_in.py)
and spans (test_tracing.py)."""

import datetime
from types import SimpleNamespace

import pytest
from gunicorn.config import Config

from app.operations.access_log import SecretQueryHidingLogger
from app.operations.secret_queries import without_secret_query


@pytest.mark.parametrize("target, kept", [
    ("/sign-in/callback?code=c0de&state=s7a7e", "/sign-in/callback"),
    ("/sign-in/callback?error=access_denied", "/sign-in/callback"),
    ("/anything?CODE=c0de", "/anything"),
    ("/anything?%74oken=t0ken", "/anything"),
    ("/c/abc?x=1&page=2", "/c/abc?x=1&page=2"),
    ("/healthz", "/healthz"),
    ("https://chat.example.com/sign-in/callback?code=c0de#top", "https://chat.example.com/sign-in/callback"),
])
def test_a_query_with_a_credential_is_dropped_and_any_other_kept(target, kept):
    assert without_secret_query(target) == kept


def test_a_percent_encoded_path_is_judged_by_the_path_the_app_routes():
    assert without_secret_query("/sign-in/%63allback?x=c0de", path="/sign-in/callback") == "/sign-in/%63allback"


def access_line(log_file, raw_uri, path, query, referer="-"):
    config = Config()
    config.set("accesslog", str(log_file))
    config.set("access_log_format", '"%(r)s" %(q)s "%(f)s" %({raw_uri}e)s %({query_string}e)s %({referer}i)s')
    logger = SecretQueryHidingLogger(config)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": raw_uri, "PATH_INFO": path, "QUERY_STRING": query,
               "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_REFERER": referer, "REMOTE_ADDR": "127.0.0.1"}
    response = SimpleNamespace(status="303 See Other", headers=[], sent=0)
    request = SimpleNamespace(headers=[("REFERER", referer)])
    logger.access(response, request, environ, datetime.timedelta(seconds=0))
    return log_file.read_text().strip()


def test_gunicorns_access_line_of_the_callback_names_no_code_or_state(tmp_path):
    line = access_line(tmp_path / "access.log", "/sign-in/callback?code=c0de&state=s7a7e", "/sign-in/callback", "code=c0de&state=s7a7e",
                       referer="https://chat.example.com/sign-in/callback?code=c0de&state=s7a7e")
    assert "c0de" not in line and "s7a7e" not in line
    assert line.startswith('"GET /sign-in/callback HTTP/1.1"  "https://chat.example.com/sign-in/callback" ')


def test_gunicorns_access_line_of_any_other_page_is_whole(tmp_path):
    line = access_line(tmp_path / "access.log", "/c/abc?page=2", "/c/abc", "page=2")
    assert line == '"GET /c/abc?page=2 HTTP/1.1" page=2 "-" /c/abc?page=2 page=2 -'
