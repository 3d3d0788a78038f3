"""A turn's files as what a model reads.

Gemini gets each file's bytes exactly, as a LangChain "media" content block
(langchain-google-vertexai makes it an inline `Part` with the MIME type, on
gRPC and REST alike), after the turn's text. The offline model reads text
only: text files as they are, PDFs as the text pypdf finds in them; the
other kinds cannot reach it (they are refused when attached).
"""

import io

from app.attachments.kinds import DOCUMENT, TEXT, kind_for


def gemini_content(text, files):
    """A HumanMessage's content: `text` then one media block per (name, mime type, bytes)."""
    if not files:
        return text
    blocks = [{"type": "text", "text": text}]
    for file in files:
        blocks += gemini_file_blocks(*file)
    return blocks


def gemini_file_blocks(name, mime_type, data):
    """One file as Gemini reads it: its name, then its bytes with their type."""
    return [{"type": "text", "text": f"[Attached file: {name}]"},
            {"type": "media", "mime_type": mime_type, "data": bytes(data)}]


def offline_content(text, files):
    """`text` followed by the text of each file the offline model can read."""
    return text + "".join(offline_file_text(*file) for file in files)


def offline_file_text(name, mime_type, data):
    """One file as the offline model reads it: a heading with its name, then its text."""
    return f"\n\n--- Attached file: {name} ---\n{readable_text(mime_type, data)}"


def readable_text(mime_type, data):
    kind = kind_for(mime_type)
    if kind is not None and kind.category == TEXT:
        return bytes(data).decode("utf-8", "replace")
    if kind is not None and kind.category == DOCUMENT:
        return pdf_text(data)
    return "(the offline model reads text only: this file was left out)"


def pdf_text(data):
    from pypdf import PdfReader  # only the offline model needs it
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(bytes(data)))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError):
        return "(the text of this PDF could not be read)"
    return "\n\n".join(f"[page {number}]\n{text.strip()}" for number, text in enumerate(pages, 1))


def file_blocks(provider, name, mime_type, data):
    """One file as content blocks for `provider`'s model, for content built
    part by part (the OpenAI-compatible API's file parts)."""
    if provider == "vertexai":
        return gemini_file_blocks(name, mime_type, data)
    return [{"type": "text", "text": offline_file_text(name, mime_type, data)}]


def content_for(provider, text, files):
    """The content a turn with `files` gives `provider`'s model."""
    if provider == "vertexai":
        return gemini_content(text, files)
    return offline_content(text, files) if files else text
