"""Telling the operator about a deployment that works but is wrong.

Behind a proxy with CHAT_PROXY_HOPS=0 every request seems to come from the
proxy's address: all clients then share one address's rate limits (and, on
an API without keys, one bucket), and one busy client holds everyone back.
The app cannot know at start-up what is in front of it, so it says so, once
per process, at the first request that shows it.
"""

import logging

from flask import current_app, request

log = logging.getLogger(__name__)

PROXY_HOPS_UNSET = (
    "requests come through a proxy (they carry X-Forwarded-For) but CHAT_PROXY_HOPS=0: every client seems "
    "to come from the proxy's address %s and shares its rate limits. Set CHAT_PROXY_HOPS to the number of "
    "proxies in front (1 behind the shipped nginx)."
)


class ProxyHopsCheck:
    def __init__(self):
        self.warned = False

    def __call__(self):
        if self.warned or current_app.config["CHAT"].proxy_hops:
            return
        if "X-Forwarded-For" in request.headers:
            self.warned = True
            log.warning(PROXY_HOPS_UNSET, request.remote_addr)


HOST_NOT_ALLOWED = (
    "refused a request for host %r: it is not in CHAT_ALLOWED_HOSTS (%s). Add the name people use to reach "
    "this server, or * to allow any."
)


def host_not_allowed(_error):
    """A Host outside CHAT_ALLOWED_HOSTS (DNS rebinding, or a name the operator
    forgot). Plain text: building the app's page needs the host it refuses."""
    log.warning(HOST_NOT_ALLOWED, request.headers.get("Host", ""), ",".join(current_app.config["TRUSTED_HOSTS"]))
    return "This server does not answer to that host name (its operator lists them in CHAT_ALLOWED_HOSTS).\n", 400, {"Content-Type": "text/plain; charset=utf-8"}
