"""Reading a `POST /v1/chat/completions` body into what the answer pipeline
takes: LangChain messages, a model name, sampling settings, how to answer.

What the product does not offer yet (tools, structured output, several
choices, log probabilities, audio) is refused with a 400 that says so, never
ignored: a client that asked for JSON must not get prose it takes for JSON.
Images come as `image_url` parts holding a `data:` URL (base64), and reach
the model as inline bytes; the server never fetches a URL a client names.
Other files come as `file` and `input_audio` parts (file_parts.py).
"""

import base64
import binascii
import math
from dataclasses import dataclass

from app.answers.model_history import bound_turns, to_chat_messages
from app.attachments.uploads import AttachmentRefused, check_count
from app.providers.request_settings import Sampling, reads_images
from app.web.message_input import BadInput, check_unicode
from app.web.openai_api.errors import OpenAIError
from app.web.openai_api.file_parts import FILE_PARTS, file_part_blocks

# Gemini's image types (Vertex AI's inline data).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"})
MAX_STOP_SEQUENCES = 5  # Gemini's limit
SYSTEM_ROLES = frozenset({"system", "developer"})
TOOLS_NOT_OFFERED = (
    "Tools (function calling) are not offered by this server yet: send the conversation without "
    "`{name}`."
)
NOT_OFFERED = {
    "tools": TOOLS_NOT_OFFERED, "tool_choice": TOOLS_NOT_OFFERED, "functions": TOOLS_NOT_OFFERED,
    "function_call": TOOLS_NOT_OFFERED, "parallel_tool_calls": TOOLS_NOT_OFFERED,
    "logprobs": "Log probabilities (`logprobs`) are not offered by this server.",
    "top_logprobs": "Log probabilities (`top_logprobs`) are not offered by this server.",
    "audio": "Audio answers (`audio`) are not offered by this server: it answers in text.",
    "logit_bias": "`logit_bias` is not offered by this server (Gemini has no such setting).",
}
TEXT_FORMAT = {"type": "text"}


@dataclass(frozen=True)
class ChatRequest:
    model: str | None  # None: the operator's default
    messages: list  # LangChain messages, instructions first
    stream: bool
    include_usage: bool
    sampling: Sampling
    search: bool


def bad(message, param=None, status=400):
    return OpenAIError(status, message, param=param)


def read_chat_request(body, config, models):
    """A ChatRequest from the parsed JSON body, or OpenAIError."""
    if not isinstance(body, dict):
        raise bad('The body must be a JSON object like {"model": "...", "messages": [...]}.')
    refuse_what_is_not_offered(body)
    model = body.get("model")
    if model is not None and (not isinstance(model, str) or not models.known(model)):
        raise unknown_model(model, models)
    stream_options = body.get("stream_options") or {}
    if not isinstance(stream_options, dict):
        raise bad("stream_options must be an object like {\"include_usage\": true}.", "stream_options")
    return ChatRequest(
        model=model,
        messages=read_messages(body.get("messages"), config),
        stream=flag(body, "stream"),
        include_usage=flag(stream_options, "include_usage", "stream_options.include_usage"),
        sampling=read_sampling(body),
        search=read_search(body, config),
    )


def unknown_model(name, models):
    """404, as OpenAI answers a model it does not have, naming the ones there are."""
    return OpenAIError(404, f"The model {name!r} does not exist here; choose one of: {', '.join(models.names)}.",
                       code="model_not_found", param="model")


def refuse_what_is_not_offered(body):
    for name, message in NOT_OFFERED.items():
        value = body.get(name)
        if value not in (None, False, [], {}) and not (name == "tool_choice" and value == "none"):
            raise bad(message.format(name=name), name)
    if body.get("n") not in (None, 1):
        raise bad("Only one answer per request is offered (`n` must be 1): send the request again for another.", "n")
    response_format = body.get("response_format")
    if response_format not in (None, TEXT_FORMAT):
        raise bad("Structured output (`response_format` other than {\"type\": \"text\"}) is not offered by this "
                  "server yet: ask for the format you want in the messages.", "response_format")
    modalities = body.get("modalities")
    if modalities not in (None, ["text"]):
        raise bad("Only text answers are offered (`modalities` must be [\"text\"]).", "modalities")


def flag(body, name, param=None):
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad(f"{param or name} must be true or false.", param or name)
    return value


# --- messages -----------------------------------------------------------------------


def read_messages(raw, config):
    """LangChain messages: the system/developer messages joined as the
    instructions (the operator's CHAT_SYSTEM_PROMPT when there are none), then
    the turns, bounded as on the rest of the API (CHAT_HISTORY_MAX_*)."""
    if not isinstance(raw, list) or not raw:
        raise bad('messages must be a non-empty list like [{"role": "user", "content": "Hello"}].', "messages")
    instructions, turns = [], []
    for index, message in enumerate(raw):
        param = f"messages[{index}]"
        if not isinstance(message, dict):
            raise bad("Each message must be an object with a role and content.", param)
        role = message.get("role")
        if role in ("tool", "function") or message.get("tool_calls") or message.get("function_call"):
            raise bad(TOOLS_NOT_OFFERED.format(name=f"{role} messages" if role in ("tool", "function") else "tool_calls"),
                      param)
        if role in SYSTEM_ROLES:
            instructions.append(text_of(message.get("content"), param))
        elif role in ("user", "assistant"):
            turns.append((role, read_content(message.get("content"), param, config, files=role == "user")))
        else:
            raise bad(f"{param}.role must be system, developer, user or assistant.", f"{param}.role")
    if not turns or turns[-1][0] != "user":
        raise bad("The last message (after any system messages) must be the user's.", "messages")
    check_last_message(turns[-1][1], config.max_message_chars)
    system = "\n\n".join(text for text in instructions if text.strip())
    return to_chat_messages(bounded(turns, config), system or config.system_prompt)


def bounded(turns, config):
    """The newest turns that fit, measured by their text as bound_turns measures it."""
    kept = bound_turns([(role, plain_text(content)) for role, content in turns],
                       config.history_max_turns, config.history_max_chars)
    return turns[len(turns) - len(kept):]


def check_last_message(content, max_chars):
    text = plain_text(content)
    if not text.strip() and isinstance(content, str):
        raise bad("The last user message is empty: please send some text.", "messages")
    if len(text) > max_chars:
        raise bad(f"The last message is {len(text):,} characters long; the limit is {max_chars:,}.", "messages", 413)


def plain_text(content):
    if isinstance(content, str):
        return content
    return "".join(block["text"] for block in content if block["type"] == "text")


def text_of(content, param):
    """A system message's content: text, or text parts."""
    content = read_content(content, param, None, files=False)
    return plain_text(content)


def read_content(content, param, config, files):
    """A string, or a list of LangChain content blocks: text, and in a user
    message (`files`) images and the file parts (app/web/openai_api/file_parts.py)."""
    if isinstance(content, str):
        return unicode(content, param)
    if not isinstance(content, list) or not content:
        raise bad(f"{param}.content must be text or a non-empty list of parts.", f"{param}.content")
    if files:
        count_files(content, param, config)
    blocks = []
    for index, part in enumerate(content):
        where = f"{param}.content[{index}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            blocks.append({"type": "text", "text": unicode(part["text"], where)})
        elif kind in ("image_url", *FILE_PARTS) and not files:
            raise bad(f"Images and files may only be sent in user messages ({where}).", where)
        elif kind == "image_url":
            blocks.append(image_block(part.get("image_url"), where, config))
        elif kind in FILE_PARTS:
            blocks += file_part_blocks(part, where, config)
        else:
            raise bad(f"{where}: only text, image_url, file and input_audio parts are offered (got {kind!r}).", where)
    return blocks


def count_files(parts, param, config):
    """A message carries at most as many files as one on the page may
    (CHAT_ATTACHMENTS_PER_MESSAGE), counted before any is decoded."""
    files = sum(isinstance(part, dict) and part.get("type") in FILE_PARTS for part in parts)
    if not files:
        return
    try:
        check_count(config, files)
    except AttachmentRefused as error:
        raise bad(error.message, f"{param}.content", error.status) from None


def unicode(text, param):
    try:
        return check_unicode(text, "message")
    except BadInput as error:
        raise bad(error.message, param) from None


def image_block(image, where, config):
    """A `data:` URL image as a LangChain image block (inline base64), or OpenAIError."""
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str):
        raise bad(f"{where}.image_url must be an object with a url.", where)
    if url[:8].lower().startswith(("http://", "https://")):
        raise bad("Images must be sent inline as data: URLs (data:image/png;base64,...): this server never "
                  "fetches a URL a client names.", where)
    if not reads_images(config):
        raise bad(f"This server's model ({config.provider}) reads text only: send the message without images.",
                  where)
    header, comma, data = url.partition(",")
    mime_type = header.removeprefix("data:").removesuffix(";base64").lower()
    if not (url.startswith("data:") and comma and header.endswith(";base64")):
        raise bad("An image must be a data: URL with base64 bytes, like data:image/png;base64,....", where)
    if mime_type not in IMAGE_TYPES:
        raise bad(f"Images of type {mime_type!r} are not offered; send one of: {', '.join(sorted(IMAGE_TYPES))}.",
                  where)
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise bad("The image's data: URL does not hold valid base64.", where) from None
    return {"type": "image", "base64": data, "mime_type": mime_type}


# --- settings -----------------------------------------------------------------------


def read_sampling(body):
    length = "max_completion_tokens" if body.get("max_completion_tokens") is not None else "max_tokens"
    return Sampling(
        max_tokens=number(length, body.get(length), whole=True, low=1),
        temperature=number("temperature", body.get("temperature"), low=0, high=2),
        top_p=number("top_p", body.get("top_p"), low=0, high=1),
        stop=read_stop(body.get("stop")),
        seed=number("seed", body.get("seed"), whole=True),
        presence_penalty=number("presence_penalty", body.get("presence_penalty"), low=-2, high=2),
        frequency_penalty=number("frequency_penalty", body.get("frequency_penalty"), low=-2, high=2),
    )


def number(name, value, whole=False, low=None, high=None):
    if value is None:
        return None
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not math.isfinite(value):
        raise bad(f"{name} must be {'a whole number' if whole else 'a number'}.", name)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise bad(f"{name} must be {bounds}.", name)
    return value


def read_stop(stop):
    if stop is None:
        return None
    sequences = [stop] if isinstance(stop, str) else stop
    if not isinstance(sequences, list) or not all(isinstance(s, str) and s for s in sequences):
        raise bad("stop must be text or a list of text.", "stop")
    if len(sequences) > MAX_STOP_SEQUENCES:
        raise bad(f"stop may hold at most {MAX_STOP_SEQUENCES} sequences.", "stop")
    return tuple(sequences) or None


def read_search(body, config):
    """`search: true` (an extra of this server's): ground the answer in Google Search."""
    search = flag(body, "search")
    if search and config.search == "off":
        why = "this server's model cannot search" if config.provider != "vertexai" else "the operator turned it off"
        raise bad(f"Google Search grounding is not available: {why} (CHAT_SEARCH=off).", "search")
    return search
