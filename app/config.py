"""Every setting the app reads, read once from the environment and validated.

A bad setting stops start-up with a ConfigError whose message says what to set;
`wsgi.py` and `python -m app` print that one line instead of a traceback.
"""

import ipaddress
import json
import os
import re
from dataclasses import dataclass, fields, replace
from typing import NamedTuple
from urllib.parse import urlsplit

PROVIDERS = ("vertexai", "local", "fake")
# A current stable Gemini Flash model; override with CHAT_MODEL.
DEFAULT_VERTEX_MODEL = "gemini-2.5-flash"
DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b-instruct (Q4_K_M, llama.cpp)"


class ConfigError(Exception):
    """A setting is missing or wrong; the message says what to set."""


PAGE_HEARTBEAT_AT_MOST_SECONDS = 5.0


@dataclass(frozen=True)
class Config:
    provider: str = "local"
    model: str = DEFAULT_LOCAL_MODEL
    google_cloud_project: str = ""
    google_cloud_location: str = "us-central1"
    vertex_transport: str = "grpc"
    vertex_base_url: str = ""  # a stand-in server (tests): http(s)://host:port for REST, host:port for gRPC
    first_piece_timeout: float = 60.0
    stall_timeout: float = 30.0
    upstream_retries: int = 2
    retry_backoff: float = 0.5
    fake_chunks: int = 20
    fake_ttft_ms: int = 0
    fake_chunk_ms: int = 0
    local_model_path: str = ""  # CHAT_LOCAL_MODEL: a path, <owner>/<repo>/<file>.gguf, or "": the default (app/providers/local_weights.py)
    local_threads: int = 0  # 0: llama.cpp's own choice
    local_max_tokens: int = 512
    # A pasted document of about 25,000 words (Gemini reads a million tokens);
    # the request bodies the app and nginx take follow it (max_body_bytes).
    max_message_chars: int = 100_000
    heartbeat_seconds: float = 15.0
    history_max_turns: int = 20
    # How often an answer being generated is saved, and looks for a Stop sent
    # to another process (app/answers/generation.py).
    checkpoint_seconds: float = 0.5
    answer_max_seconds: float = 600.0  # the longest an answer may be generated
    rate_messages_per_minute: int = 20  # per client; 0: no limit
    rate_max_streams: int = 3  # simultaneous answers per client; 0: no limit
    # per network address, whoever the client says it is
    rate_address_messages_per_minute: int = 60
    rate_address_max_streams: int = 12
    rate_new_owners_per_hour: int = 30  # new browser identities
    rate_failed_auth_per_hour: int = 30  # wrong API keys per network address (IPv6: per /64)
    rate_limit_store: str = "machine"  # this machine's workers; "database": every app server
    rate_limit_file: str = ""  # the machine store's SQLite file; default instance/rate-limits.sqlite3
    # Earlier turns sent with a question, in characters: four pasted documents
    # for Gemini, what the offline model's context holds (default_history_chars).
    history_max_chars: int = 400_000
    # What one owner's conversations may keep, in MB (app/storage/storage_use.py); 0: no limit.
    storage_per_person_mb: float = 200.0
    # Files attached to a message (app/attachments/): the largest, in MB, and
    # how many one message may carry (0: none). 5 MB x 3 stays within Vertex
    # AI's 20 MB inline request, and nginx's client_max_body_size matches.
    attachment_max_mb: float = 5.0
    attachments_per_message: int = 3
    # The largest export file an import takes, in MB (app/web/import_input.py):
    # within nginx's client_max_body_size at its default.
    import_max_mb: float = 20.0
    secret_key: str = ""
    debug: bool = False  # CHAT_DEBUG=1: allows running without SECRET_KEY
    secure_cookies: bool = False  # CHAT_SECURE_COOKIES=1: Secure even on plain HTTP (else whenever HTTPS)
    api_keys: tuple = ()  # CHAT_API_KEYS: comma-separated; empty leaves the API open
    database_url: str = ""  # default: SQLite in the instance folder
    proxy_hops: int = 0  # proxies in front that set X-Forwarded-* (1 behind our nginx)
    metrics: bool = False  # CHAT_METRICS=1: Prometheus metrics at /metrics (app/operations/metrics.py)
    metrics_token: str = ""  # CHAT_METRICS_TOKEN: then /metrics needs Authorization: Bearer <token>
    log_format: str = "text"  # CHAT_LOG_FORMAT: text, or json (one object per line)
    # Host names this server answers to (CHAT_ALLOWED_HOSTS, comma-separated;
    # ".example.com" takes its subdomains too; "*" any): against DNS rebinding.
    allowed_hosts: tuple = ("localhost", "127.0.0.1")
    # Who uses the app (CHAT_AUTH; app/auth/): "none", each browser is its own
    # anonymous owner; "oidc", people sign in with an OpenID Connect provider;
    # "proxy", an authenticating proxy in front names them in `auth_header`.
    auth: str = "none"
    oidc_issuer: str = ""  # CHAT_OIDC_ISSUER: its discovery document is <issuer>/.well-known/openid-configuration
    oidc_client_id: str = ""
    oidc_client_secret: str = ""  # empty: a public client (PKCE alone)
    oidc_scopes: str = "openid email profile"
    auth_header: str = ""  # CHAT_AUTH_HEADER (proxy): e.g. X-Forwarded-Email
    # CHAT_AUTH_PROXY_ADDRESSES (proxy): the proxy's own addresses (or networks);
    # the header is believed only on a request that came from one of them.
    auth_proxy_addresses: tuple = ("127.0.0.1", "::1")
    # CHAT_AUTH_PROXY_SECRET (proxy): what the nginx site in front sends with
    # every request (app/auth/proxy.py); the header is believed only with it,
    # so nothing else on the machine can reach gunicorn as someone.
    auth_proxy_secret: str = ""
    auth_sign_out_url: str = ""  # CHAT_AUTH_SIGN_OUT_URL (proxy): default oauth2-proxy's /oauth2/sign_out
    # CHAT_ALLOWED_EMAIL_DOMAINS / CHAT_ALLOWED_EMAILS (lower-case); both empty: anyone the provider signs in.
    allowed_email_domains: tuple = ()
    allowed_emails: tuple = ()
    # The models a conversation may choose (CHAT_MODELS, comma-separated; the
    # first is the default); empty: just `model`.
    models: tuple = ()
    system_prompt: str = ""  # CHAT_SYSTEM_PROMPT: new conversations' instructions
    # CHAT_THINKING_BUDGET: Gemini's thinking budget in tokens (-1: the model
    # decides, 0: no thinking); None: the model's default. Gemini's thought
    # summaries are shown whenever it thinks.
    thinking_budget: int | None = None
    search: str = "off"  # CHAT_SEARCH: Google Search grounding, off | optional | always
    prices: tuple = ()  # CHAT_PRICES (JSON) as ((model, {input, output, search}), ...)

    @property
    def model_choices(self):
        return self.models or (self.model,)

    @property
    def shows_thinking(self):
        return self.provider == "vertexai" and self.thinking_budget != 0

    @property
    def page_heartbeat_seconds(self):
        """The page stream's heartbeat: at most 5 s, so that a page notices a
        silent connection within 10 s (two periods: static/stream_health.js).
        A heartbeat there is 35 bytes while the model is silent; the programs'
        streams keep heartbeat_seconds."""
        return min(self.heartbeat_seconds, PAGE_HEARTBEAT_AT_MOST_SECONDS)

    def with_overrides(self, overrides):
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return validate(replace(self, **overrides))


def _int(env, name, default, minimum=0):
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env, name, default, zero_allowed=False):
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < 0 or (value == 0 and not zero_allowed):
        raise ConfigError(f"{name} must be {'0 or more' if zero_allowed else 'above 0'}, got {value}")
    return value


def _megabytes(env, name, default):
    value = _float(env, name, default, zero_allowed=True)
    if not value <= 1e9:  # also "inf", and "nan" (which compares as nothing)
        raise ConfigError(f"{name} must be a number of MB from 0 (no limit) to 1000000000, got {value}")
    return value


def _flag(env, name):
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _names(env, name):
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


def _optional_int(env, name, minimum):
    return _int(env, name, None, minimum) if env.get(name, "").strip() else None


PRICE_KEYS = ("input", "audio_input", "output", "search")


def _prices(raw):
    """CHAT_PRICES: {"model": {"input": USD per 1M tokens, "audio_input"
    (audio's own input price; default: "input"), "output": ..., "search":
    USD per 1,000 grounded prompts}} (see app/answers/prices.py)."""
    if not raw.strip():
        return ()
    example = '{"gemini-2.5-flash": {"input": 0.30, "output": 2.50, "search": 35}}'
    try:
        table = json.loads(raw)
    except ValueError:
        raise ConfigError(f"CHAT_PRICES must be JSON like {example}") from None
    if not isinstance(table, dict):
        raise ConfigError(f"CHAT_PRICES must be a JSON object like {example}")
    prices = []
    for model, entry in table.items():
        valid = isinstance(entry, dict) and entry and all(
            key in PRICE_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
            for key, value in entry.items()
        )
        if not valid:
            raise ConfigError(
                f"CHAT_PRICES[{model!r}] must be an object of prices (0 or more) named {', '.join(PRICE_KEYS)}"
            )
        prices.append((model, dict(entry)))
    return tuple(prices)


def load_config(env=None):
    """Read the settings from `env` (default: os.environ)."""
    env = os.environ if env is None else env
    if env.get("CHAT_VERTEX_MAX_RETRIES", "0").strip() not in ("", "0"):
        # The library would retry every error (400, 403, 404 too), on top of
        # the app's own retries, which retry only what may succeed next time.
        raise ConfigError(
            "CHAT_VERTEX_MAX_RETRIES is not used: the app retries Gemini itself, and only errors worth "
            "retrying; set CHAT_UPSTREAM_RETRIES instead (default 2)"
        )
    project = env.get("GOOGLE_CLOUD_PROJECT", "").strip()
    provider = env.get("CHAT_PROVIDER", "").strip().lower() or ("vertexai" if project else "local")
    local_model = (env.get("CHAT_LOCAL_MODEL", "") or env.get("CHAT_LOCAL_MODEL_PATH", "")).strip()
    # Another local model is called by its file's name, unless CHAT_MODEL names it.
    local_label = local_model.rstrip("/").rpartition("/")[2].removesuffix(".gguf") if local_model else DEFAULT_LOCAL_MODEL
    default_model = {"vertexai": DEFAULT_VERTEX_MODEL, "local": local_label}.get(provider, "fake-echo")
    config = Config(
        provider=provider,
        model=env.get("CHAT_MODEL", "").strip() or (_names(env, "CHAT_MODELS") or (default_model,))[0],
        google_cloud_project=project,
        google_cloud_location=env.get("GOOGLE_CLOUD_LOCATION", "").strip() or "us-central1",
        vertex_transport=env.get("CHAT_VERTEX_TRANSPORT", "").strip().lower() or "grpc",
        vertex_base_url=env.get("CHAT_VERTEX_BASE_URL", "").strip(),
        first_piece_timeout=_float(env, "CHAT_FIRST_PIECE_TIMEOUT", 60.0),
        stall_timeout=_float(env, "CHAT_STALL_TIMEOUT", 30.0),
        upstream_retries=_int(env, "CHAT_UPSTREAM_RETRIES", 2),
        retry_backoff=_float(env, "CHAT_RETRY_BACKOFF", 0.5),
        fake_chunks=_int(env, "CHAT_FAKE_CHUNKS", 20, minimum=1),
        fake_ttft_ms=_int(env, "CHAT_FAKE_TTFT_MS", 0),
        fake_chunk_ms=_int(env, "CHAT_FAKE_CHUNK_MS", 0),
        # CHAT_LOCAL_MODEL_PATH: its earlier name, still read.
        local_model_path=local_model,
        local_threads=_int(env, "CHAT_LOCAL_THREADS", 0),
        local_max_tokens=_int(env, "CHAT_LOCAL_MAX_TOKENS", 512, minimum=1),
        max_message_chars=_int(env, "CHAT_MAX_MESSAGE_CHARS", default_message_chars(provider), minimum=1),
        heartbeat_seconds=_float(env, "CHAT_HEARTBEAT_SECONDS", 15.0),
        history_max_turns=_int(env, "CHAT_HISTORY_MAX_TURNS", 20, minimum=1),
        checkpoint_seconds=_float(env, "CHAT_CHECKPOINT_SECONDS", 0.5),
        answer_max_seconds=_float(env, "CHAT_ANSWER_MAX_SECONDS", 600.0),
        rate_messages_per_minute=_int(env, "CHAT_RATE_MESSAGES_PER_MINUTE", 20),
        rate_max_streams=_int(env, "CHAT_RATE_MAX_STREAMS", 3),
        rate_address_messages_per_minute=_int(env, "CHAT_RATE_ADDRESS_MESSAGES_PER_MINUTE", 60),
        rate_address_max_streams=_int(env, "CHAT_RATE_ADDRESS_MAX_STREAMS", 12),
        rate_new_owners_per_hour=_int(env, "CHAT_RATE_NEW_OWNERS_PER_HOUR", 30),
        rate_failed_auth_per_hour=_int(env, "CHAT_RATE_FAILED_AUTH_PER_HOUR", 30),
        rate_limit_store=env.get("CHAT_RATE_LIMIT_STORE", "").strip().lower() or "machine",
        rate_limit_file=env.get("CHAT_RATE_LIMIT_FILE", "").strip(),
        history_max_chars=_int(env, "CHAT_HISTORY_MAX_CHARS", default_history_chars(provider), minimum=1),
        storage_per_person_mb=_megabytes(env, "CHAT_STORAGE_PER_PERSON_MB", 200.0),
        attachment_max_mb=_float(env, "CHAT_ATTACHMENT_MAX_MB", 5.0),
        attachments_per_message=_int(env, "CHAT_ATTACHMENTS_PER_MESSAGE", 3),
        import_max_mb=_float(env, "CHAT_IMPORT_MAX_MB", 20.0),
        secret_key=env.get("SECRET_KEY", "").strip(),
        debug=_flag(env, "CHAT_DEBUG"),
        secure_cookies=_flag(env, "CHAT_SECURE_COOKIES"),
        api_keys=_names(env, "CHAT_API_KEYS"),
        database_url=env.get("DATABASE_URL", "").strip(),
        proxy_hops=_int(env, "CHAT_PROXY_HOPS", 0),
        metrics=_flag(env, "CHAT_METRICS"),
        metrics_token=env.get("CHAT_METRICS_TOKEN", "").strip(),
        log_format=env.get("CHAT_LOG_FORMAT", "").strip().lower() or "text",
        allowed_hosts=_names(env, "CHAT_ALLOWED_HOSTS") or Config.allowed_hosts,
        **_sign_in_settings(env),
        models=_names(env, "CHAT_MODELS"),
        system_prompt=env.get("CHAT_SYSTEM_PROMPT", "").strip(),
        thinking_budget=_optional_int(env, "CHAT_THINKING_BUDGET", minimum=-1),
        search=env.get("CHAT_SEARCH", "").strip().lower() or ("optional" if provider == "vertexai" else "off"),
        prices=_prices(env.get("CHAT_PRICES", "")),
    )
    return validate(config)


# Keys that must never sign cookies outside debug: empty, or copied from docs.
KNOWN_BAD_SECRET_KEYS = {"", "dev", "changeme", "secret", "dev-only-secret-key"}
DEBUG_SECRET_KEY = "debug-only-not-secret"


def validate(config):
    if config.provider not in PROVIDERS:
        raise ConfigError(
            f"CHAT_PROVIDER={config.provider!r} is unknown; set it to one of {', '.join(PROVIDERS)}"
        )
    if config.provider == "vertexai" and not config.google_cloud_project:
        raise ConfigError("CHAT_PROVIDER=vertexai needs GOOGLE_CLOUD_PROJECT set to your Google Cloud project id")
    if config.secret_key in KNOWN_BAD_SECRET_KEYS or len(config.secret_key) < 16:
        if not config.debug:
            raise ConfigError(
                "SECRET_KEY must be set to a long random value (python3 -c 'import secrets; print(secrets.token_hex(32))'), "
                "or CHAT_DEBUG=1 for local development"
            )
        config = replace(config, secret_key=config.secret_key or DEBUG_SECRET_KEY)
    if config.rate_limit_store not in ("machine", "database"):
        raise ConfigError(
            f"CHAT_RATE_LIMIT_STORE must be machine or database, got {config.rate_limit_store!r} "
            "(memory is gone: it gave every worker its own counts)"
        )
    if config.vertex_transport not in ("grpc", "rest"):
        raise ConfigError(f"CHAT_VERTEX_TRANSPORT must be grpc or rest, got {config.vertex_transport!r}")
    check_vertex_base_url(config.vertex_transport, config.vertex_base_url)
    check_api_keys(config)
    check_sign_in(config)
    if config.log_format not in ("text", "json"):
        raise ConfigError(f"CHAT_LOG_FORMAT must be text or json, got {config.log_format!r}")
    check_model_choices(config)
    check_attachment_limits(config)
    return config


# Vertex AI takes at most 20 MB of inline data in one request.
MAX_ATTACHMENT_MB = 20.0


def check_attachment_limits(config):
    if not 0 < config.attachment_max_mb <= MAX_ATTACHMENT_MB:
        raise ConfigError(f"CHAT_ATTACHMENT_MAX_MB must be above 0 and at most {MAX_ATTACHMENT_MB:g} "
                          f"(Vertex AI's inline request limit), got {config.attachment_max_mb:g}")
    if config.attachments_per_message > 10:
        raise ConfigError(f"CHAT_ATTACHMENTS_PER_MESSAGE must be from 0 (no attachments) to 10, "
                          f"got {config.attachments_per_message}")


SEARCH_MODES = ("off", "optional", "always")
MAX_INSTRUCTIONS_CHARS = 8000
# Room in a request body for everything beside its message: the history an
# API call sends, instructions, the form's other fields.
BODY_BYTES_BESIDE_MESSAGE = 1024 * 1024
# The most one character of a message can take in a body: a 4-byte UTF-8
# character percent-encoded in a form (%F0%9F%98%80), or in JSON escaped as a
# surrogate pair (\ud83d\ude00). The limit counts characters, the body bytes.
BODY_BYTES_PER_CHAR = 12


# The offline model reads 4,096 tokens (app/providers/local.py): a message
# longer than about this much would not fit with its answer, and llama.cpp
# would refuse it after the person had waited.
LOCAL_MAX_MESSAGE_CHARS = 8000


def default_message_chars(provider):
    """The message limit unless CHAT_MAX_MESSAGE_CHARS says: a pasted document
    for Gemini (and the fake model, which stands in for it), what the offline
    model's context holds for it."""
    return LOCAL_MAX_MESSAGE_CHARS if provider == "local" else Config.max_message_chars


# The offline model's 4,096-token context holds about this much history.
LOCAL_HISTORY_MAX_CHARS = 24000


def default_history_chars(provider):
    """The history sent unless CHAT_HISTORY_MAX_CHARS says: with Gemini (and
    the fake model) several messages at the message limit, so a pasted
    document is still read with the next question; with the offline model
    what its context holds (it trims further to fit, and says so)."""
    return LOCAL_HISTORY_MAX_CHARS if provider == "local" else Config.history_max_chars


def max_body_bytes(config):
    """The largest request body (without files): the longest message a
    person may send, however it is encoded, and room beside it. So a message
    within CHAT_MAX_MESSAGE_CHARS is never refused for its body's size; the
    shipped nginx site's client_max_body_size is above it at the defaults."""
    return BODY_BYTES_BESIDE_MESSAGE + BODY_BYTES_PER_CHAR * config.max_message_chars


def check_model_choices(config):
    """The models, search and thinking the operator allows, for this provider."""
    if config.model not in config.model_choices:
        raise ConfigError(f"CHAT_MODEL={config.model} is not among CHAT_MODELS ({', '.join(config.models)})")
    if config.provider == "local" and len(config.model_choices) > 1:
        raise ConfigError("CHAT_MODELS lists several models, but the local model is one: unset CHAT_MODELS")
    if config.search not in SEARCH_MODES:
        raise ConfigError(f"CHAT_SEARCH must be off, optional or always, got {config.search!r}")
    if config.search != "off" and config.provider != "vertexai":
        raise ConfigError(f"CHAT_SEARCH={config.search} needs Gemini (CHAT_PROVIDER=vertexai): "
                          "the local model cannot search")
    if config.thinking_budget is not None and config.provider != "vertexai":
        raise ConfigError("CHAT_THINKING_BUDGET needs Gemini (CHAT_PROVIDER=vertexai): the local model does not think")
    if len(config.system_prompt) > MAX_INSTRUCTIONS_CHARS:
        raise ConfigError(f"CHAT_SYSTEM_PROMPT is {len(config.system_prompt):,} characters; "
                          f"the limit is {MAX_INSTRUCTIONS_CHARS:,}")


def check_vertex_base_url(transport, url):
    """gRPC takes host:port and always speaks TLS; REST takes a URL."""
    if not url:
        return
    has_scheme = "://" in url
    if transport == "grpc" and has_scheme:
        raise ConfigError(
            f"CHAT_VERTEX_BASE_URL={url} cannot work with CHAT_VERTEX_TRANSPORT=grpc: gRPC takes host:port "
            "(always over TLS); use CHAT_VERTEX_TRANSPORT=rest for an http(s):// URL"
        )
    if transport == "rest" and not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"CHAT_VERTEX_BASE_URL={url} cannot work with CHAT_VERTEX_TRANSPORT=rest: it needs an "
            "http:// or https:// URL (host:port alone is for gRPC)"
        )


class ApiKeyEntry(NamedTuple):
    """One CHAT_API_KEYS entry: the key, and whom it acts for: None (the
    operator), a person's email, or (issuer, subject) naming one person."""

    key: str
    person: str | tuple | None


def split_key_entry(entry):
    """`key`, `key=email` or `key=issuer|subject`. A key may itself end in "="
    (base64 padding): only a part after the last "=" that holds an "@" is an
    email; a subject (the provider's id) may hold anything, the key no "|"."""
    head, bar, subject = entry.partition("|")
    if bar:
        key, equals, issuer = head.rpartition("=")
        if equals and key and issuer.strip() and subject.strip():
            return ApiKeyEntry(key, (issuer.strip(), subject.strip()))
    key, equals, person = entry.rpartition("=")
    if equals and key and "@" in person:
        return ApiKeyEntry(key, person.strip().lower())
    return ApiKeyEntry(entry, None)


MIN_API_KEY_CHARS = 32
MAKE_AN_API_KEY = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def check_api_keys(config):
    """Keys long enough not to be guessed, each once. A key is named by its
    place in the list, never shown: the message goes to logs."""
    seen = {}
    for position, entry in enumerate(config.api_keys, 1):
        key = split_key_entry(entry).key
        where = f"CHAT_API_KEYS: key {position} of {len(config.api_keys)}"
        if len(key) < MIN_API_KEY_CHARS:
            raise ConfigError(f"{where} is shorter than {MIN_API_KEY_CHARS} characters, which can be guessed: "
                              f"replace it with a long random one ({MAKE_AN_API_KEY})")
        if key in seen:
            raise ConfigError(f"{where} is key {seen[key]} again: give each program its own key")
        seen[key] = position


AUTH_MODES = ("none", "oidc", "proxy")
# What deploy/nginx_config.py can write into the site as they are (it checks the same).
PROXY_HEADER_NAME = re.compile(r"[A-Za-z0-9]+(-[A-Za-z0-9]+)*")
PROXY_SECRET = re.compile(r"[A-Za-z0-9_.~+/=-]{32,}")


def _sign_in_settings(env):
    """CHAT_AUTH and the settings of its modes (checked by `check_sign_in`)."""
    return dict(
        auth=env.get("CHAT_AUTH", "").strip().lower() or "none",
        oidc_issuer=env.get("CHAT_OIDC_ISSUER", "").strip().rstrip("/"),
        oidc_client_id=env.get("CHAT_OIDC_CLIENT_ID", "").strip(),
        oidc_client_secret=env.get("CHAT_OIDC_CLIENT_SECRET", "").strip(),
        oidc_scopes=" ".join(env.get("CHAT_OIDC_SCOPES", "").split()) or Config.oidc_scopes,
        auth_header=env.get("CHAT_AUTH_HEADER", "").strip(),
        auth_proxy_addresses=_names(env, "CHAT_AUTH_PROXY_ADDRESSES") or Config.auth_proxy_addresses,
        auth_proxy_secret=env.get("CHAT_AUTH_PROXY_SECRET", "").strip(),
        auth_sign_out_url=env.get("CHAT_AUTH_SIGN_OUT_URL", "").strip(),
        allowed_email_domains=tuple(d.lower().lstrip("@") for d in _names(env, "CHAT_ALLOWED_EMAIL_DOMAINS")),
        allowed_emails=tuple(e.lower() for e in _names(env, "CHAT_ALLOWED_EMAILS")),
    )


def check_sign_in(config):
    """The sign-in mode has what it needs, and nothing is set that it would ignore."""
    if config.auth not in AUTH_MODES:
        raise ConfigError(f"CHAT_AUTH must be none, oidc or proxy, got {config.auth!r}")
    if config.auth == "none" and (config.allowed_emails or config.allowed_email_domains):
        raise ConfigError("CHAT_ALLOWED_EMAILS and CHAT_ALLOWED_EMAIL_DOMAINS need people to sign in: "
                          "set CHAT_AUTH=oidc or proxy")
    if config.auth == "none" and any(split_key_entry(entry).person for entry in config.api_keys):
        raise ConfigError("CHAT_API_KEYS ties a key to a person (key=email or key=issuer|subject), but nobody "
                          "signs in: set CHAT_AUTH=oidc or proxy, or drop the =person")
    if config.auth == "oidc":
        if not config.oidc_issuer or not config.oidc_client_id:
            raise ConfigError("CHAT_AUTH=oidc needs CHAT_OIDC_ISSUER (the provider's issuer URL) and "
                              "CHAT_OIDC_CLIENT_ID (and CHAT_OIDC_CLIENT_SECRET) from registering this app with it")
        issuer = urlsplit(config.oidc_issuer)
        # Codes and tokens cross this link: plain http only to this machine (a provider run for tests).
        loopback = issuer.hostname in ("localhost", "127.0.0.1", "::1")
        if issuer.scheme != "https" and not (issuer.scheme == "http" and loopback):
            raise ConfigError(f"CHAT_OIDC_ISSUER={config.oidc_issuer} must be an https:// URL")
        if "openid" not in config.oidc_scopes.split():
            raise ConfigError(f"CHAT_OIDC_SCOPES={config.oidc_scopes!r} must include openid")
    if config.auth == "proxy":
        if not config.auth_header:
            raise ConfigError("CHAT_AUTH=proxy needs CHAT_AUTH_HEADER, the header the proxy names the person in "
                              "(for example X-Forwarded-Email)")
        if not config.proxy_hops:
            raise ConfigError("CHAT_AUTH=proxy needs CHAT_PROXY_HOPS (1 behind the shipped nginx): the person's "
                              "header is believed only from the proxy in front")
        if not PROXY_HEADER_NAME.fullmatch(config.auth_header):
            raise ConfigError(f"CHAT_AUTH_HEADER={config.auth_header!r} must be a header name: letters, digits "
                              "and hyphens (for example X-Forwarded-Email)")
        if not PROXY_SECRET.fullmatch(config.auth_proxy_secret):
            raise ConfigError("CHAT_AUTH=proxy needs CHAT_AUTH_PROXY_SECRET: at least 32 letters, digits or "
                              "-_.~+/= (for example the output of `openssl rand -hex 32`), the same value the "
                              "nginx site is rendered with (nginx_config.py --auth-proxy reads it from the "
                              "environment): the person's header is believed only on requests that carry it")
        for address in config.auth_proxy_addresses:
            try:
                ipaddress.ip_network(address, strict=False)
            except ValueError:
                raise ConfigError(f"CHAT_AUTH_PROXY_ADDRESSES: {address!r} is not an address or network") from None
