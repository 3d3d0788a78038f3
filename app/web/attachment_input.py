"""Files sent with a message, read from the request: the page's multipart
form (`files`), and the API's multipart files or JSON `attachments`.

Only the routes that take files accept a body larger than the app's usual
(config.max_body_bytes: the longest message and 1 MiB beside it): as large
as their files may be together (base64 for JSON) and the message around
them. nginx's client_max_body_size (deploy/nginx.conf) is above it at the
default settings.
"""

from flask import current_app, request

from app.attachments.uploads import AttachmentRefused, from_form_files, from_json, max_bytes
from app.refusals import Refused
from app.config import max_body_bytes
from app.web.message_input import BadInput

# The endpoints whose requests may carry files.
TAKES_FILES = {"chat.post_message", "chat.edit_last", "api.chat", "api.chat_stream"}


def body_limit(config):
    """The largest body a request with files may have."""
    return config.attachments_per_message * max_bytes(config) * 4 // 3 + max_body_bytes(config)


def allow_attachment_bodies():
    """Before anything reads the body: a larger one for the routes that take
    files, refused at once with a sentence when its length says it is over."""
    if request.endpoint not in TAKES_FILES:
        return
    config = current_app.config["CHAT"]
    limit = body_limit(config)
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, f"That is too much to send at once: the limit is {config.attachments_per_message} "
                           f"files of {config.attachment_max_mb:g} MB each with a message.")
    request.max_content_length = limit


def offline(config):
    """Whether this server's model is the offline one, which reads text only."""
    return config.provider != "vertexai"


def form_uploads():
    """Uploads from the page's form field `files` (and the API's multipart), or BadInput."""
    config = current_app.config["CHAT"]
    try:
        return from_form_files(config, request.files.getlist("files"), offline(config))
    except AttachmentRefused as error:
        raise BadInput(error.status, error.message) from None


def body_uploads(body):
    """Uploads from an API body: JSON `attachments`, or multipart `files`."""
    config = current_app.config["CHAT"]
    try:
        if request.is_json:
            return from_json(config, body.get("attachments"), offline(config))
        return from_form_files(config, request.files.getlist("files"), offline(config))
    except AttachmentRefused as error:
        raise BadInput(error.status, error.message) from None
