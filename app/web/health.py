"""GET /healthz: is this process alive, and what is it holding open?"""

import threading

from flask import Blueprint, current_app, jsonify

from app.answers.reply_pipeline import MODEL_STREAMS_OPEN

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(
        status="ok",
        model_streams_open=MODEL_STREAMS_OPEN.value,
        answers_generating=len(current_app.extensions["live_answers"]),
        threads=threading.active_count(),
    )
