"""The application factory."""

import logging

from flask import Flask
from werkzeug.exceptions import HTTPException, SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix

from app.answers import deadlines
from app.answers.checkpoints import Checkpoints
from app.answers.generation import AnswerTasks
from app.answers.live import LiveAnswers
from app.auth import init_auth
from app.auth.csrf import csrf_token
from app.config import load_config, max_body_bytes
from app.operations.http_metrics import record_request, start_timing
from app.operations.metrics import build_metrics
from app.operations.request_ids import add_request_id_header, assign_request_id, forget_request_id
from app.operations.tracing import init_tracing
from app.providers.choices import ModelChoices
from app.refusals import Refused, http_error, refused
from app.rendering.markdown import answer_html, render_answer, split_for_streaming, thoughts_html
from app.rendering.sources import shown_sources
from app.storage.engine import init_db
from app.web.assets import asset_url
from app.web.attachment_input import allow_attachment_bodies
from app.web.answer_stats import answer_stats
from app.web.costs import answer_cost, conversation_cost
from app.web.greeting import greeting
from app.web.cross_site import refuse_cross_site_writes
from app.web.deployment_checks import ProxyHopsCheck, host_not_allowed
from app.web.headers import add_security_headers
from app.web.import_input import allow_import_bodies
from app.web.rate_limits import RateLimited, build_limiter, count_rate_limited
from app.web.session_cookie import SchemeAwareSessionInterface
from app.web.url_ids import RowIdConverter

log = logging.getLogger(__name__)


def create_app(overrides=None, chat_model=None):
    """Build the app from the environment; `overrides` replaces settings by name
    (tests), and `chat_model` replaces the provider's model (tests)."""
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    config = load_config()
    if overrides:
        config = config.with_overrides(overrides)
    app.config.update(
        CHAT=config,
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        SESSION_REFRESH_EACH_REQUEST=False,  # renewed daily instead: web.identity.ensure_browser_owner
        # The longest message however it is encoded, with room beside it (and
        # nginx's client_max_body_size is above it): a bigger body is refused
        # before it is read.
        MAX_CONTENT_LENGTH=max_body_bytes(config),
        TRUSTED_HOSTS=None if "*" in config.allowed_hosts else list(config.allowed_hosts),
    )
    app.session_interface = SchemeAwareSessionInterface()
    app.url_map.converters["row_id"] = RowIdConverter
    app.extensions["models"] = ModelChoices(config, chat_model)
    app.extensions["chat_model"] = app.extensions["models"].get()
    app.extensions["answer_tasks"] = AnswerTasks()
    app.extensions["render_answer"] = render_answer
    app.extensions["live_answers"] = LiveAnswers()
    app.extensions["metrics"] = build_metrics(config)
    init_db(app)
    app.extensions["checkpoints"] = Checkpoints(app.extensions["db_engine"], app.extensions["live_answers"],
                                                config.checkpoint_seconds)
    app.extensions["limiter"] = build_limiter(config, app.extensions["db_engine"], app.instance_path)

    app.add_template_filter(answer_html)
    app.add_template_global(asset_url)
    app.add_template_global(csrf_token)
    app.add_template_global(split_for_streaming)
    app.add_template_global(answer_cost)
    app.add_template_global(answer_stats)
    app.add_template_global(greeting)
    app.add_template_global(conversation_cost)
    app.add_template_filter(thoughts_html)
    app.add_template_filter(shown_sources)
    app.after_request(add_security_headers)
    app.after_request(add_request_id_header)
    # First: every request, refused or not, has its id and is timed.
    app.before_request(assign_request_id)
    app.teardown_request(forget_request_id)
    if config.metrics:
        app.before_request(start_timing)
        app.after_request(record_request)
    # Before every other check: a cross-site write is refused untouched.
    app.before_request(refuse_cross_site_writes)
    app.before_request(ProxyHopsCheck())
    # Before anything reads a body: the routes that take files take larger ones.
    app.before_request(allow_attachment_bodies)
    app.before_request(allow_import_bodies)
    app.register_error_handler(SecurityError, host_not_allowed)
    app.register_error_handler(Refused, refused)
    app.register_error_handler(RateLimited, count_rate_limited)
    app.register_error_handler(HTTPException, http_error)
    # OpenTelemetry with OTEL_EXPORTER_OTLP_ENDPOINT set; before ProxyFix
    # wraps the app, so spans see the client's address, scheme and host.
    init_tracing(app)
    if config.proxy_hops:
        # Behind nginx: trust exactly that many proxies for the client's
        # address, scheme and host (X-Forwarded-*), and no more.
        hops = config.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    # api_import adds POST /api/import to api.bp.
    from app.web import api, api_import, health, library, page, shared_page, shares  # noqa: F401
    from app.web import attachments as attachment_routes
    from app.web.openai_api import routes as openai_api

    app.register_blueprint(page.bp)
    app.register_blueprint(library.bp)
    app.register_blueprint(attachment_routes.bp)
    app.register_blueprint(shares.bp)
    app.register_blueprint(shared_page.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(openai_api.bp)
    app.register_blueprint(health.bp)
    # Sign-in (CHAT_AUTH): last, so that its gate runs after the checks above.
    init_auth(app)
    if config.metrics:
        from app.web import metrics_endpoint

        app.register_blueprint(metrics_endpoint.bp)
    # The process's one deadline thread starts with the app, not with the
    # first answer, so /healthz's thread count is steady from the start and
    # a growing count still means a leak.
    deadlines.ticker()
    log.info("chat provider: %s, model: %s", config.provider, config.model)
    return app
