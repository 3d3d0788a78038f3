"""One seam for every model: `build_chat_model(config)` returns a LangChain chat model.

The reply pipeline reads whatever comes back through
`text_stream.stream_text(model, messages)`, so it never branches on the provider.
It must not know HTTP, HTML or the storage.
"""

from app.config import ConfigError


def build_chat_model(config):
    if config.provider == "fake":
        from app.providers.fake import FakeEchoChatModel

        return FakeEchoChatModel(
            chunks=config.fake_chunks,
            ttft_ms=config.fake_ttft_ms,
            chunk_ms=config.fake_chunk_ms,
        )
    if config.provider == "local":
        from app.providers.local import build_local_model

        return build_local_model(config)
    if config.provider == "vertexai":
        from app.providers.vertexai import build_vertex_model

        return build_vertex_model(config)
    raise ConfigError(f"CHAT_PROVIDER={config.provider!r} is unknown")


def check_provider(config):
    """Raise ConfigError if the provider cannot work, without loading a model.

    gunicorn's master runs this before it forks workers, so a misconfiguration
    stops start-up with one line instead of workers failing one by one.
    """
    if config.provider == "local":
        from app.providers.local import model_file, require_llama_cpp

        require_llama_cpp()
        model_file(config)
    elif config.provider == "vertexai":
        from app.providers.vertexai import credentials_for

        credentials_for(config)


def describe_model(config):
    """What the page and the start-up log call the model that answers."""
    names = {"vertexai": "Gemini", "local": "Local", "fake": "Fake echo"}
    return f"{names[config.provider]} · {config.model}"
