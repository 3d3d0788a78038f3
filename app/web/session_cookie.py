"""The session cookie is Secure whenever the page came over HTTPS.

A fixed setting (CHAT_SECURE_COOKIES) was easy to leave out of a production
config, and the cookie, which is the visitor's identity, then also went out
over plain HTTP. Behind nginx the scheme is the one nginx forwards
(X-Forwarded-Proto, trusted for CHAT_PROXY_HOPS proxies).
"""

from flask import has_request_context, request
from flask.sessions import SecureCookieSessionInterface


class SchemeAwareSessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app):
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)
