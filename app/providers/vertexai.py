"""Gemini through LangChain's ChatVertexAI (langchain-google-vertexai 3.x).

ChatVertexAI is deprecated in 3.2 in favour of
langchain_google_genai.ChatGoogleGenerativeAI(vertexai=True); it stays because
it is the integration asked for, and this file is the only one that would change.
"""

import warnings

from app.config import ConfigError


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
    # The deprecation is known and handled (see the module docstring).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_google_vertexai import ChatVertexAI

        return ChatVertexAI(
            model=config.model,
            project=config.google_cloud_project,
            location=config.google_cloud_location,
            transport=config.vertex_transport,
            credentials=credentials_for(config),
            max_retries=config.vertex_max_retries,
            streaming=True,
            **options,
        )
