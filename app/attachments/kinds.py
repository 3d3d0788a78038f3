"""The types a file may be attached as: the server's own allow-list.

A file's type is taken from its name's extension, looked up here; the type
a browser or program declares is not believed (it is whatever the client
says). Each type says what it is for Gemini (the MIME type sent with the
bytes) and how the page may show it: only raster images are shown inline,
everything else downloads.
"""

from dataclasses import dataclass
from pathlib import PurePosixPath

IMAGE, DOCUMENT, AUDIO, VIDEO, TEXT = "image", "document", "audio", "video", "text"


@dataclass(frozen=True)
class Kind:
    mime_type: str  # what is stored, served and sent to Gemini
    category: str  # IMAGE, DOCUMENT, AUDIO, VIDEO or TEXT
    pillow_format: str | None = None  # the format Pillow must find in an image's bytes

    @property
    def shown_inline(self):
        """Raster images the browser can show; HEIC/HEIF only download."""
        return self.pillow_format is not None

    @property
    def offline_readable(self):
        """What the offline model can read: text, and PDFs through their text."""
        return self.category in (TEXT, DOCUMENT)


_CODE = ("py", "js", "ts", "java", "c", "h", "cpp", "hpp", "cs", "go", "rs", "rb", "php", "sh", "sql", "css",
         "html", "xml", "json", "yaml", "yml", "toml", "ini", "log", "tsx", "jsx", "kt", "swift")

# Vertex AI's inline types for Gemini (images, PDF, audio, video, text).
KINDS = {
    "png": Kind("image/png", IMAGE, "PNG"),
    "jpg": Kind("image/jpeg", IMAGE, "JPEG"),
    "jpeg": Kind("image/jpeg", IMAGE, "JPEG"),
    "webp": Kind("image/webp", IMAGE, "WEBP"),
    "heic": Kind("image/heic", IMAGE),
    "heif": Kind("image/heif", IMAGE),
    "pdf": Kind("application/pdf", DOCUMENT),
    "wav": Kind("audio/wav", AUDIO),
    "mp3": Kind("audio/mpeg", AUDIO),
    "aac": Kind("audio/aac", AUDIO),
    "ogg": Kind("audio/ogg", AUDIO),
    "flac": Kind("audio/flac", AUDIO),
    "m4a": Kind("audio/mp4", AUDIO),
    "mp4": Kind("video/mp4", VIDEO),
    "mov": Kind("video/quicktime", VIDEO),
    "webm": Kind("video/webm", VIDEO),
    "mpeg": Kind("video/mpeg", VIDEO),
    "txt": Kind("text/plain", TEXT),
    "md": Kind("text/markdown", TEXT),
    "csv": Kind("text/csv", TEXT),
    # Code goes to Gemini (and is served) as plain text: HTML, SVG-like XML
    # and scripts are never given a type a browser would run.
    **{extension: Kind("text/plain", TEXT) for extension in _CODE},
}

BY_MIME_TYPE = {}
for _extension, _kind in KINDS.items():
    BY_MIME_TYPE.setdefault(_kind.mime_type, _kind)


def extension_for(mime_type):
    """The extension a file of `mime_type` is attached as, or None if the type is not allowed."""
    return next((extension for extension, kind in KINDS.items() if kind.mime_type == mime_type.lower()), None)


def kind_of(name):
    """The Kind a file named `name` is attached as, or None if it is not allowed."""
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower().lstrip(".")
    return KINDS.get(suffix)


def kind_for(mime_type):
    """The Kind stored under `mime_type` (what the store keeps), or None."""
    return BY_MIME_TYPE.get(mime_type)


def accept_list(offline):
    """The file input's `accept=`: the extensions the current model reads."""
    return ",".join(f".{extension}" for extension, kind in KINDS.items() if kind.offline_readable or not offline)


def described(offline):
    """A sentence naming what may be attached, for the button's hint."""
    if offline:
        return "Text, Markdown, CSV, code and PDF files (the offline model reads text only)."
    return "Images (PNG, JPEG, WebP, HEIC), PDF, audio, video, text, Markdown, CSV and code files."
