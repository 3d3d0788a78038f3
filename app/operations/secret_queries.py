"""Query strings that carry credentials, kept out of logs and traces.

The provider sends the browser back to the sign-in's callback with a one-time
`code` and the sign-in's `state` in the query (app/auth/oidc.py): whoever
reads them before the browser uses them can finish that sign-in as the
person. So wherever a request's address is written down (gunicorn's access
log, app/operations/access_log.py; a request's span, tracing.py) the query
is dropped when it is the callback's, or when it has a parameter named like
a credential. Pure functions: no Flask, no gunicorn.
"""

from urllib.parse import parse_qsl, urlsplit

SECRET_QUERY_PATHS = frozenset({"/sign-in/callback"})
# Compared in lower case, after percent-decoding (as the app reads them).
SECRET_PARAMETERS = frozenset({
    "code", "state", "token", "access_token", "id_token", "refresh_token", "code_verifier", "session_state",
})


def is_secret_query(path, query):
    """Whether `query` (the part after "?") must not be written down for `path`."""
    if not query:
        return False
    if path in SECRET_QUERY_PATHS:
        return True
    names = {name.lower() for name, _value in parse_qsl(query, keep_blank_values=True)}
    return not names.isdisjoint(SECRET_PARAMETERS)


def without_secret_query(target, path=None):
    """`target` (a request target "/path?query", or a whole URL) without its
    query if that carries a credential. `path`, when given, is the decoded
    path the app routes by (PATH_INFO), which a percent-encoded target hides."""
    base, question, query = target.partition("?")
    if question and is_secret_query(path or urlsplit(base).path, query):
        return base
    return target
