"""A real OpenID Connect provider for the tests: oidc-provider-mock (Authlib's
server) on a loopback port, in a thread of the test's process.

It serves discovery, its signing keys, an authorization form (a person types
a `sub` and presses Authorize), the token endpoint and user info. Each
request it receives is recorded, so a test can see what the app sent (PKCE's
code_challenge, then its code_verifier), and `corrupt_id_tokens` breaks the
signature of the ID tokens it hands out, and `claimed_issuer` makes it
claim to be another issuer.
"""

import base64
import io
import json
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import quote

import requests
from werkzeug.serving import make_server

from tests.conftest import skip_or_fail


@dataclass
class Provider:
    issuer: str
    requests_seen: list = field(default_factory=list)  # (method, path, query string, body)
    corrupt_id_tokens: bool = False
    claimed_issuer: str = ""  # what its discovery document says it is, when not itself

    def set_person(self, sub, **claims):
        """What the provider says about `sub` (email, name, email_verified...)."""
        response = requests.put(f"{self.issuer}/users/{quote(sub, safe='')}", json=claims, timeout=10)
        assert response.status_code == 204, response.text

    def register_client(self, redirect_uri):
        """A client registration, as an operator makes one: (client id, secret)."""
        response = requests.post(f"{self.issuer}/oauth2/clients", json={"redirect_uris": [redirect_uri]}, timeout=10)
        assert response.status_code == 201, response.text
        return response.json()["client_id"], response.json()["client_secret"]

    def authorize(self, authorization_url, sub):
        """Press Authorize on the provider's form as `sub`: the URL it sends the browser back to."""
        response = requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=10)
        assert response.status_code in (302, 303), response.text[:500]
        return response.headers["Location"]

    def seen(self, path):
        return [seen for seen in self.requests_seen if seen[1] == path]


def _corrupt(body):
    token = json.loads(body)
    header, payload, signature = token["id_token"].split(".")
    flipped = base64.urlsafe_b64decode(signature + "==")
    flipped = bytes([flipped[0] ^ 1]) + flipped[1:]
    token["id_token"] = ".".join([header, payload, base64.urlsafe_b64encode(flipped).rstrip(b"=").decode()])
    return json.dumps(token).encode()


@contextmanager
def running_provider(**options):
    try:
        import oidc_provider_mock
    except ImportError:
        skip_or_fail("oidc-provider-mock is not installed (pip install -r requirements-dev.txt)")
    provider_app = oidc_provider_mock.app(require_nonce=True, **options)

    def recording(environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        provider.requests_seen.append(
            (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("QUERY_STRING", ""), body)
        )
        environ["wsgi.input"] = io.BytesIO(body)
        if provider.corrupt_id_tokens and environ["PATH_INFO"] == "/oauth2/token":
            change = _corrupt
        elif provider.claimed_issuer and environ["PATH_INFO"] == "/.well-known/openid-configuration":
            def change(body):
                return json.dumps({**json.loads(body), "issuer": provider.claimed_issuer}).encode()
        else:
            return provider_app(environ, start_response)
        captured = {}
        chunks = provider_app(environ, lambda status, headers, exc=None: captured.update(status=status, headers=headers))
        corrupted = change(b"".join(chunks))
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], headers + [("Content-Length", str(len(corrupted)))])
        return [corrupted]

    # "localhost", not 127.0.0.1: the app under test is served on 127.0.0.1,
    # and cookies do not tell ports apart, so the two sites' cookies stay apart.
    server = make_server("localhost", 0, recording, threaded=True)
    provider = Provider(f"http://localhost:{server.server_port}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
