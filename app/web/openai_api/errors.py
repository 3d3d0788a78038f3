"""Errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`,
with the statuses its SDKs turn into their exception classes (400
BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError, 404
NotFoundError, 413/422 too, 429 RateLimitError, 5xx InternalServerError).

Every refusal of a /v1 request comes out this way, those of the app's shared
checks too (API key, rate limits, body size: app/web/refusals.py asks here).
"""

from flask import jsonify

_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    429: "rate_limit_error",
}
_CODES = {401: "invalid_api_key", 404: "not_found", 429: "rate_limit_exceeded"}

# How long a client should wait after Gemini's own 429 (Vertex AI does not
# say): the SDKs retry after Retry-After.
MODEL_BUSY_RETRY_SECONDS = 10


class OpenAIError(Exception):
    """A request refused in OpenAI's terms: `param` names the field at fault."""

    def __init__(self, status, message, code=None, param=None, retry_after=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.retry_after = retry_after


def error_object(status, message, code=None, param=None):
    """The inner object; also what ends an event stream that failed."""
    kind = _TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"message": message, "type": kind, "param": param, "code": code or _CODES.get(status)}


def error_response(status, message, code=None, param=None, retry_after=None):
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return jsonify(error=error_object(status, message, code, param)), status, headers


def openai_error(error):
    """OpenAIError's handler."""
    return error_response(error.status, error.message, error.code, error.param, error.retry_after)
