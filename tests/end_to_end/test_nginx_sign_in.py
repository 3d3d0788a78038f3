"""CHAT_AUTH=oidc through the shipped nginx site on a port that is not 80
(as `make stack` serves it, on 8080): the address the provider sends the
browser back to keeps that port, so a provider that checks it against the
registered one (every real provider does) lets the sign-in complete. And the
callback's one-time code and state stay out of gunicorn's and nginx's
access logs."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from deploy.stack import NGINX, free_port, gunicorn, nginx
from tests.auth.oidc_provider import running_provider
from tests.conftest import skip_or_fail


@pytest.fixture(autouse=True)
def needs_nginx():
    if not Path(NGINX).exists():
        skip_or_fail("nginx is not installed (apt-get install nginx)")


def test_sign_in_behind_nginx_on_another_port_sends_that_port_and_completes(tmp_path):
    port = free_port()
    callback = f"http://127.0.0.1:{port}/sign-in/callback"
    with running_provider() as provider:
        client_id, secret = provider.register_client(callback)
        provider.set_person("alice", email="alice@example.com", name="Alice", email_verified=True)
        settings = {"CHAT_AUTH": "oidc", "CHAT_OIDC_ISSUER": provider.issuer, "CHAT_OIDC_CLIENT_ID": client_id,
                    "CHAT_OIDC_CLIENT_SECRET": secret, "CHAT_PROXY_HOPS": "1"}
        with gunicorn(tmp_path, settings) as (app_url, log_path, _process):
            with nginx(tmp_path, [app_url], port=port) as (url, prefix):
                browser = requests.Session()
                start = browser.get(f"{url}/sign-in/start", allow_redirects=False, timeout=30)
                assert start.status_code == 302, start.text[:500]
                asked = parse_qs(urlsplit(start.headers["Location"]).query)
                assert asked["redirect_uri"] == [callback]

                back = provider.authorize(start.headers["Location"], "alice")
                assert back.startswith(callback + "?")
                secrets = [parse_qs(urlsplit(back).query)[name][0] for name in ("code", "state")]
                done = browser.get(back, allow_redirects=False, timeout=30)
                assert done.status_code == 303, done.text[:500]
                page = browser.get(url + "/", timeout=30)
                assert page.status_code == 200 and "Signed in as" in page.text and "Alice" in page.text

        for log in (log_path, prefix / "access.log"):  # gunicorn's, nginx's
            access = [line for line in log.read_text().splitlines() if "/sign-in/callback" in line]
            assert access and re.search(r'"GET /sign-in/callback HTTP/1\.[01]" 303 ', access[0]), access
            for secret_value in secrets:
                assert secret_value not in log.read_text(), f"the callback's code or state reached {log.name}"
