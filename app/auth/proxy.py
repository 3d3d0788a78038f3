"""CHAT_AUTH=proxy: the person is whoever the authenticating proxy in front
(oauth2-proxy, Authelia, Pomerium...) names in CHAT_AUTH_HEADER.

Anyone can send that header, so it is believed only on a request that came
from the proxy itself: from one of CHAT_AUTH_PROXY_ADDRESSES (the shipped
nginx also replaces whatever header a client sent, deploy/nginx.conf). The
app then trusts CHAT_PROXY_HOPS proxies for the client's address, so the
proxy's own address is the one the connection came from, before ProxyFix.
"""

import ipaddress
import logging
import re

from flask import request

from app.auth.people import PROXY_ISSUER, person_signing_in

log = logging.getLogger(__name__)

# An email or a user name: printable, no spaces, at most the column's length.
PERSON_VALUE = re.compile(r"[^\s\x00-\x1f\x7f]{1,255}")


def connecting_address():
    """The address of whoever opened the connection: the proxy, when there is one."""
    original = request.environ.get("werkzeug.proxy_fix.orig") or request.environ
    return original.get("REMOTE_ADDR") or ""


def is_from_proxy(config):
    try:
        address = ipaddress.ip_address(connecting_address())
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in config.auth_proxy_addresses)


def named_by_proxy(config):
    """The proxy's name for the person (lower-case), or None: no header, a
    malformed one, or a request that did not come from the proxy."""
    value = request.headers.get(config.auth_header, "").strip()
    if not value:
        return None
    if not is_from_proxy(config):
        log.warning("ignored %s from %s, which is not in CHAT_AUTH_PROXY_ADDRESSES",
                    config.auth_header, connecting_address())
        return None
    if not PERSON_VALUE.fullmatch(value):
        return None
    return value.lower()


def person_from_proxy(db, config):
    """The person the proxy names, made at their first request; None if it names nobody."""
    value = named_by_proxy(config)
    if value is None:
        return None
    return person_signing_in(db, PROXY_ISSUER, value, value if "@" in value else None, None)
