"""GET /healthz: is this process alive, and what is it holding open? (cheap:
no database, no model). GET /readyz: can it serve: is the database there and
the model's provider configured (credentials found, a model file present)?
For load balancers and systemd; it never calls the model."""

import logging
import threading

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.answers.reply_pipeline import MODEL_STREAMS_OPEN
from app.config import ConfigError
from app.providers import check_provider

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(
        status="ok",
        model_streams_open=MODEL_STREAMS_OPEN.value,
        answers_generating=len(current_app.extensions["live_answers"]),
        threads=threading.active_count(),
    )


@bp.get("/readyz")
def readyz():
    problems = {}
    try:
        with current_app.extensions["db_engine"].connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure means not ready; the log has it
        log.warning("not ready: database: %s", error)
        problems["database"] = "The database cannot be reached."
    try:
        check_provider(current_app.config["CHAT"])
    except ConfigError as error:
        problems["provider"] = str(error)
    if problems:
        return jsonify(status="not ready", problems=problems), 503
    return jsonify(status="ready")
