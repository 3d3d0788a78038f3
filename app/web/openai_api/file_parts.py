"""OpenAI's `file` and `input_audio` content parts, read as the files a
message carries on the rest of the product: the same allow-list, checks and
limits as a file attached on the page (app/attachments/uploads.py), and the
same content for the model (app/attachments/model_content.py): the bytes
inline for Gemini, the text for the offline model.

    {"type": "file", "file": {"filename": "report.pdf", "file_data": "data:application/pdf;base64,..."}}
    {"type": "input_audio", "input_audio": {"data": "<base64>", "format": "wav"}}

`file_data` may be a data: URL or bare base64; the file's name decides its
type, as on the page (a data: URL's type must agree with it). `file_id`
(OpenAI's Files API, an upload kept on the server) is not offered.
"""

from app.attachments.kinds import extension_for
from app.attachments.model_content import file_blocks
from app.attachments.uploads import AttachmentRefused, check_upload, decoded, declared_type_agrees
from app.web.attachment_input import offline
from app.web.openai_api.errors import OpenAIError

FILE_PARTS = frozenset({"file", "input_audio"})
AUDIO_FORMATS = frozenset({"wav", "mp3"})  # what OpenAI's input_audio names


def file_part_blocks(part, where, config):
    """Content blocks for one `file` or `input_audio` part, or OpenAIError."""
    name, declared, data = named_bytes(part, where)
    try:
        upload = check_upload(config, name, decoded(config, name, data), offline(config))
    except AttachmentRefused as error:
        raise OpenAIError(error.status, error.message, param=where) from None
    if declared and not declared_type_agrees(declared, upload.kind):
        raise bad(f"{upload.name}: the data: URL's type {declared!r} does not match the file's name "
                  f"({upload.kind.mime_type}).", where)
    return file_blocks(config.provider, upload.name, upload.kind.mime_type, upload.data)


def named_bytes(part, where):
    """(name, declared MIME type or None, base64 text) from a part, or OpenAIError."""
    if part["type"] == "input_audio":
        audio = part.get("input_audio")
        if not (isinstance(audio, dict) and isinstance(audio.get("data"), str)):
            raise bad(f'{where}.input_audio must be an object like {{"data": "<base64>", "format": "wav"}}.', where)
        if audio.get("format") not in AUDIO_FORMATS:
            raise bad(f"{where}.input_audio.format must be one of: {', '.join(sorted(AUDIO_FORMATS))}.", where)
        return f"audio.{audio['format']}", None, audio["data"]
    file = part.get("file")
    if not isinstance(file, dict):
        raise bad(f'{where}.file must be an object like {{"filename": "report.pdf", "file_data": "data:..."}}.',
                  where)
    if file.get("file_id") is not None:
        raise bad("Uploaded files (`file_id`, OpenAI's Files API) are not offered by this server: send the bytes "
                  "in the message as file_data.", where)
    data, filename = file.get("file_data"), file.get("filename")
    if not isinstance(data, str) or (filename is not None and not isinstance(filename, str)):
        raise bad(f"{where}.file needs file_data (a data: URL or base64) and may have a filename, both text.", where)
    declared = None
    if data.startswith("data:"):
        header, comma, data = data.partition(",")
        if not (comma and header.endswith(";base64")):
            raise bad("file_data must be base64, or a data: URL with base64 bytes (data:application/pdf;base64,...).",
                      where)
        declared = header.removeprefix("data:").removesuffix(";base64").lower()
    return filename or unnamed(declared, where), declared, data


def unnamed(declared, where):
    """A name for a file sent without one, from its data: URL's type."""
    extension = extension_for(declared) if declared else None
    if extension is None:
        raise bad("A file part needs a filename (its type is taken from the name's extension), or a data: URL of a "
                  "type this server takes.", where)
    return f"file.{extension}"


def bad(message, where):
    return OpenAIError(400, message, param=where)
