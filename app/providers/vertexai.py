"""Gemini through LangChain's ChatVertexAI (langchain-google-vertexai 3.x).

ChatVertexAI is deprecated in 3.2 in favour of
langchain_google_genai.ChatGoogleGenerativeAI(vertexai=True); it stays because
it is the integration asked for, and this file and gemini_stream.py (which
reads the answer) are the only ones that would change.
"""

import os
import warnings

from app.config import ConfigError
from app.providers.gemini_stream import GeminiStream

# The deprecation is known and handled (see the module docstring); it is
# raised on import and again when a subclass is made.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from langchain_google_vertexai import ChatVertexAI

    class GeminiChatModel(ChatVertexAI):
        """ChatVertexAI whose answers the app reads through `stream_text`
        (app/providers/gemini_stream.py): text, how the answer ended, and a
        cancel that really stops Gemini. Everything else is ChatVertexAI's."""

        def stream_text(self, messages, stop=None, search=False):
            return GeminiStream(self, messages, search)


def credentials_for(config):
    if config.vertex_base_url:
        # A local stand-in server (tests): no Google credentials involved.
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _project = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    except DefaultCredentialsError:
        raise ConfigError(
            "no Google Cloud credentials found: run `gcloud auth application-default login` "
            "or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file"
        ) from None
    return credentials


def build_vertex_model(config):
    options = {}
    if config.vertex_base_url:
        options["base_url"] = config.vertex_base_url
    if config.vertex_transport == "rest":
        # Over REST this is a read timeout between bytes, so a hung upstream
        # frees the reader thread soon after the pipeline has given up on it.
        # (Over gRPC it would be a deadline for the whole answer: not set.)
        options["timeout"] = max(config.first_piece_timeout, config.stall_timeout) + 5
    if config.thinking_budget is not None:
        options["thinking_budget"] = config.thinking_budget
    if config.shows_thinking:
        # Gemini thinks anyway (2.5 models, by default); this asks for its
        # thought summaries, which the page shows apart from the answer.
        options["include_thoughts"] = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        model = GeminiChatModel(
            model=config.model,
            project=config.google_cloud_project,
            location=config.google_cloud_location,
            transport=config.vertex_transport,
            credentials=credentials_for(config),
            max_retries=0,  # the app retries, by error class (app/answers/reply_pipeline.py)
            streaming=True,
            **options,
        )
    if config.vertex_transport == "rest":
        _keep_rest_connections(model)
    return model


# Connections to Vertex AI kept open for the next answer, per worker. The
# GAPIC client's `requests` session keeps 10 per host, so with more answers at
# once than that, every further answer opened a new connection (TCP and TLS)
# and closed it at its end.
REST_CONNECTIONS_KEPT = 1000


def _keep_rest_connections(model):
    """Let the REST client keep a connection per answer in flight (up to
    REST_CONNECTIONS_KEPT) for the next one. Made here, before any request:
    the client is built once per model and process."""
    from requests.adapters import HTTPAdapter

    session = getattr(model.prediction_client.transport, "_session", None)
    if session is None:  # a library version that keeps it elsewhere: its default pool stays
        return
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=REST_CONNECTIONS_KEPT)
    for prefix in ("https://", "http://"):
        # An adapter of the library's own (mutual TLS) stays as it is.
        if type(session.get_adapter(prefix)) is HTTPAdapter:
            session.mount(prefix, adapter)
    _read_environment_once(session, getattr(model.prediction_client.transport, "_host", ""))


def _read_environment_once(session, url):
    """What `requests` would read from the environment on every request
    (proxy variables, CA bundle variables), read once for Vertex AI's address:
    about 0.7 ms of CPU per answer otherwise (docs/benchmarks.md), and the
    environment does not change while the app runs. (The other thing it reads,
    ~/.netrc, would replace Google's Authorization header: never wanted.)"""
    from requests.utils import get_environ_proxies

    if url:
        session.proxies.update(get_environ_proxies(url))
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle and session.verify is True:
        session.verify = ca_bundle
    session.trust_env = False
