"""A foreign website against a visitor, in a real Chromium.

The attacker's page is served from `localhost`, the app from `127.0.0.1`:
two sites, so Chromium applies SameSite and sends Sec-Fetch-Site: cross-site
exactly as it would for evil.example against chat.example.
"""

import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from deploy.stack import gunicorn
from tests.end_to_end.conftest import Watched, send


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with gunicorn(tmp_path_factory.mktemp("attacks")) as (base, _log, _process):
        yield base


class AttackerSite:
    """A page on another site that submits a form to the app as soon as it loads."""

    def __init__(self):
        self.forms = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = site.forms.get(self.path, "").encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.origin = f"http://localhost:{self.httpd.server_address[1]}"

    def page_posting(self, name, action, fields):
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
        )
        # An inline script is this page's own business: it is not the app's.
        self.forms[f"/{name}"] = (
            f'<form id="f" method="post" action="{html.escape(action)}">{inputs}</form>'
            '<script>document.getElementById("f").submit()</script>'
        )
        return f"{self.origin}/{name}"

    def close(self):
        self.httpd.shutdown()


@pytest.fixture(scope="module")
def attacker():
    site = AttackerSite()
    yield site
    site.close()


def visitor_with_a_conversation(browser, server):
    context = browser.new_context()
    watched = Watched(context.new_page())
    watched.page.goto(server)
    send(watched.page, "my private notes")
    watched.page.wait_for_url("**/c/*")
    watched.page.locator(".message.assistant:not(.outcome-streaming)").wait_for()
    return context, watched.page, watched.page.url


@pytest.mark.parametrize("target, fields", [
    ("/messages", {"message": "planted", "conversation_id": ""}),
    ("/api/chat", {"message": "planted", "conversation_id": "new"}),
    ("/c/anything/delete", {}),
])
def test_a_foreign_site_cannot_replace_the_visitors_identity(browser, server, attacker, target, fields):
    context, page, conversation_url = visitor_with_a_conversation(browser, server)
    cookies_before = context.cookies(server)
    try:
        attack = attacker.page_posting(target.strip("/").replace("/", "-"), server + target, fields)
        with page.expect_navigation(url=f"{server}{target}"):
            page.goto(attack)
        # The browser still holds the same identity, with everything in it...
        assert context.cookies(server) == cookies_before
        # ...and the person was told why nothing happened.
        assert page.locator("body").inner_text().find("another website") >= 0
        page.goto(conversation_url)
        assert page.locator(".message.user").first.inner_text().startswith("my private notes")
        page.goto(server)
        assert page.locator(".sidebar").inner_text().find("my private notes") >= 0
        assert page.locator(".sidebar").inner_text().find("planted") < 0
    finally:
        context.close()
