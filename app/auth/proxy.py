"""CHAT_AUTH=proxy: the person is whoever the authenticating proxy in front
(oauth2-proxy, Authelia, Pomerium...) names in CHAT_AUTH_HEADER.

Anyone can send that header, and anything on the machine can reach gunicorn
from 127.0.0.1, so it is believed only on a request that the nginx site in
front vouches for: it carries CHAT_AUTH_PROXY_SECRET in PROXY_SECRET_HEADER,
and in PERSON_HEADER_NAME_HEADER the name of the header nginx set (and so
stripped from what the client sent). A site rendered for another
CHAT_AUTH_HEADER than the app's would pass a client's own header on: its
requests name nobody. The request must also come from one of
CHAT_AUTH_PROXY_ADDRESSES. The app trusts CHAT_PROXY_HOPS proxies for the
client's address, so the proxy's own address is the one the connection came
from, before ProxyFix.
"""

import hmac
import ipaddress
import logging
import re

from flask import request

from app.auth.people import PROXY_ISSUER, person_signing_in

log = logging.getLogger(__name__)

# Set by the shipped nginx site rendered with --auth-proxy (deploy/nginx.conf).
PROXY_SECRET_HEADER = "X-Chat-Proxy-Secret"
PERSON_HEADER_NAME_HEADER = "X-Chat-Proxy-Person-Header"

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


def carries_the_proxys_secret(config):
    sent = request.headers.get(PROXY_SECRET_HEADER, "")
    return hmac.compare_digest(sent.encode(), config.auth_proxy_secret.encode())


def proxy_set_the_person_header(config):
    """nginx said it set (and so replaced) the very header the app reads."""
    return request.headers.get(PERSON_HEADER_NAME_HEADER, "").strip().lower() == config.auth_header.lower()


def vouched_for_by_proxy(config):
    if not is_from_proxy(config):
        log.warning("ignored %s from %s, which is not in CHAT_AUTH_PROXY_ADDRESSES",
                    config.auth_header, connecting_address())
        return False
    if not carries_the_proxys_secret(config):
        log.warning("ignored %s on a request without CHAT_AUTH_PROXY_SECRET in %s: it did not come through "
                    "the nginx site (or the site was rendered with another secret)",
                    config.auth_header, PROXY_SECRET_HEADER)
        return False
    if not proxy_set_the_person_header(config):
        log.error("ignored %s: the nginx site sets %r, not CHAT_AUTH_HEADER, so a client's own %s reaches the "
                  "app; render the site again with the app's settings (docs/sign-in.md)",
                  config.auth_header, request.headers.get(PERSON_HEADER_NAME_HEADER, "")[:100],
                  config.auth_header)
        return False
    return True


def named_by_proxy(config):
    """The proxy's name for the person (lower-case), or None: no header, a
    malformed one, or a request the proxy did not vouch for."""
    value = request.headers.get(config.auth_header, "").strip()
    if not value:
        return None
    if not vouched_for_by_proxy(config):
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
