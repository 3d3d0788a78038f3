"""Errors in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`,
with the statuses its SDKs turn into their exception classes (400
BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError, 404
NotFoundError, 413/422 too, 429 RateLimitError, 5xx InternalServerError).

Every refusal of a /v1 request comes out this way, those of the app's shared
checks too (API key, rate limits, body size: app/refusals.py, which makes the inner object).
"""

from flask import jsonify

from app.refusals import error_object

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


def error_response(status, message, code=None, param=None, retry_after=None):
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    return jsonify(error=error_object(status, message, code, param)), status, headers


def openai_error(error):
    """OpenAIError's handler."""
    return error_response(error.status, error.message, error.code, error.param, error.retry_after)
