"""The Vertex AI stand-in and an app pointed at it, on both of ChatVertexAI's
transports: every test that takes `standin` runs over gRPC (the default, TLS)
and over REST. A test for one transport only says so with
`@pytest.mark.parametrize("standin", ["rest"], indirect=True)`."""

import pytest

from tests.providers.vertex_standin import VertexStandIn

@pytest.fixture(params=["grpc", "rest"])
def standin(request):
    with VertexStandIn(transport=request.param) as server:
        yield server


@pytest.fixture
def vertex_app(make_app, standin):
    """Build the app on provider=vertexai, pointed at the stand-in; settings by name."""

    def build(**overrides):
        settings = dict(
            provider="vertexai",
            model="gemini-2.5-flash",
            google_cloud_project="test-project",
            vertex_transport=standin.transport,
            vertex_base_url=standin.base_url,
            upstream_retries=0,  # the fault tests turn retries on where they test them
        )
        settings.update(overrides)
        return make_app(**settings)

    return build


@pytest.fixture
def client(vertex_app):
    return vertex_app().test_client()
