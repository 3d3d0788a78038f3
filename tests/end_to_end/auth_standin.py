"""A stand-in for oauth2-proxy, for nginx's auth_request: the browser's
`standin_session` cookie says who signed in at the proxy.

    GET /oauth2/auth      202 + X-Auth-Request-Email: <the cookie's person>, or 401
    GET /oauth2/sign_in   the proxy's sign-in page
    GET /oauth2/sign_out  forgets the cookie, then back to the sign-in page

A cookie of "nobody" answers 202 without a person (a proxy set up wrong).
Every request it sees is recorded (path, headers).
"""

import threading
from contextlib import contextmanager
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COOKIE = "standin_session"
SIGN_IN_PAGE = b"<!doctype html><title>Sign in at the proxy</title><h1>Stand-in proxy: sign in</h1>"


class StandinHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.seen.append((self.path, dict(self.headers)))
        path = self.path.split("?", 1)[0]
        if path == "/oauth2/auth":
            return self.check()
        if path == "/oauth2/sign_in":
            return self.answer(200, SIGN_IN_PAGE, [("Content-Type", "text/html")])
        if path == "/oauth2/sign_out":
            return self.answer(302, b"", [("Location", "/oauth2/sign_in"),
                                          ("Set-Cookie", f"{COOKIE}=; Max-Age=0; Path=/")])
        return self.answer(404, b"not found")

    def check(self):
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        person = cookie[COOKIE].value if COOKIE in cookie else ""
        if not person:
            return self.answer(401, b"")
        headers = [] if person == "nobody" else [("X-Auth-Request-Email", person)]
        return self.answer(202, b"", headers)

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def auth_standin():
    """Yields (the service's base URL, the list of requests it sees)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandinHandler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", server.seen
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
