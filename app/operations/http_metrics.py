"""The HTTP side of the metrics: every request by route and status with its
time to the response's start.
(Requests a rate limit refused are counted by app/web/rate_limits.py.)"""

import time

from flask import current_app, g, request


def start_timing():
    g.started_at = time.perf_counter()


def record_request(response):
    started = g.get("started_at")
    if started is not None:
        # The route's pattern, not the path: ids in paths would make a series
        # per conversation.
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        current_app.extensions["metrics"].http_request(
            route, request.method, response.status_code, time.perf_counter() - started,
        )
    return response
