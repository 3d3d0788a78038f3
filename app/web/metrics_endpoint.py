"""GET /metrics: Prometheus's scrape (app/operations/metrics.py), registered
only with CHAT_METRICS=1. With CHAT_METRICS_TOKEN it needs
`Authorization: Bearer <token>`; the shipped nginx site does not pass it to
the public at all (deploy/nginx.conf): Prometheus scrapes gunicorn directly."""

import hmac

from flask import Blueprint, Response, current_app, jsonify, request

from app.operations.metrics import exposition
from app.web.rate_limits import RateLimited

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    token = current_app.config["CHAT"].metrics_token
    if token:
        # Wrong tokens count with wrong API keys: a guesser gets 429s, the
        # right token included, until its hour of guesses has passed.
        limiter = current_app.extensions["limiter"]
        try:
            limiter.refuse_while_guessing(request.remote_addr)
        except RateLimited as error:
            return jsonify(error=error.message), 429, error.headers
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), token.encode()):
            limiter.count_failed_auth(request.remote_addr)
            return jsonify(error="The metrics need Authorization: Bearer <CHAT_METRICS_TOKEN>."), 401
    body, content_type = exposition()
    return Response(body, content_type=content_type, headers={"Cache-Control": "no-store"})
