"""Apps that people sign in to, and a provider to sign in with."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.auth.oidc_provider import running_provider


@pytest.fixture
def provider():
    with running_provider() as provider:
        yield provider


@pytest.fixture
def oidc_app(make_app, provider):
    """An app whose people sign in with `provider` (any client id: it is not registering them)."""

    def build(**overrides):
        return make_app(auth="oidc", oidc_issuer=provider.issuer, oidc_client_id="chat-tests",
                        oidc_client_secret="chat-tests-secret", **overrides)

    return build


def query_of(url):
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def start_sign_in(client, next_path="/", base_url="http://localhost"):
    """The app's redirect to the provider's authorization form."""
    response = client.get(f"{base_url}/sign-in/start", query_string={"next": next_path})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response.headers["Location"]


def sign_in(client, provider, sub, next_path="/", base_url="http://localhost", **claims):
    """The whole sign-in as `sub` through the provider; the app's last response."""
    provider.set_person(sub, **{"email": sub, **claims})
    back = provider.authorize(start_sign_in(client, next_path, base_url), sub)
    return client.get(back)
