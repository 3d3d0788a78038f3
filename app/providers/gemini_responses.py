"""What one Gemini `GenerateContentResponse` says, read from its wire form.

ChatVertexAI turns every streamed response into LangChain objects
(`_gemini_chunk_to_generation_chunk`: an `AIMessageChunk`, usage and safety
ratings converted to dicts through proto-plus, `generation_info`), about
210 us of CPU per piece, of which the app needs only the text. Reading the
same fields straight from the message costs about 5 us (docs/benchmarks.md,
"The real Gemini path"). So the hot loop reads:

- over gRPC, the raw protobuf message (`read_message`): upb's C accessors,
  not proto-plus's marshalling;
- over REST, the parsed JSON element (`read_json`): camelCase names, enums as
  numbers (the GAPIC client asks for `enum-encoding=int`).

Both give the same `ResponseFacts`, and follow LangChain's own reading
(`_parse_response_candidate`): only `candidates[0]`; a part marked `thought`
is thinking, never text.
"""

import json
from dataclasses import dataclass, field

from google.api_core import exceptions as api_exceptions
from google.cloud.aiplatform_v1beta1.types import (Candidate, GenerateContentResponse, GroundingMetadata, HarmCategory,
                                                   Modality)

from app.providers.ending import Usage
from app.providers.grounding import from_gemini

_BlockedReason = GenerateContentResponse.PromptFeedback.BlockedReason


@dataclass(slots=True)
class ResponseFacts:
    text: str = ""
    thoughts: list = field(default_factory=list)
    finish_reason: str | None = None  # Candidate.FinishReason's name
    prompt_block: str | None = None  # PromptFeedback.BlockedReason's name: the question was refused
    category: str | None = None  # the HarmCategory that blocked the answer or the question
    usage: Usage | None = None  # Gemini's running totals so far
    grounding: object = None  # providers.grounding.Grounding


def _enum_name(enum, value):
    """The name of an enum value sent as a number (or already as a name); a
    number this library version does not know stays readable."""
    if isinstance(value, str):
        return value
    try:
        return enum(value).name
    except ValueError:
        return f"{enum.__name__}_{value}"


def _usage(prompt, candidates, thoughts, by_modality=()):
    return Usage(prompt, candidates, thoughts, by_modality) if prompt or candidates or thoughts else None


def _modality_name(value):
    """"image" for Modality.IMAGE, sent as a number or a name."""
    return _enum_name(Modality, value).lower()


# --- gRPC: the raw protobuf message ------------------------------------------------


def read_message(message):
    """ResponseFacts of a raw (upb) `GenerateContentResponse` message."""
    facts = ResponseFacts()
    feedback = message.prompt_feedback
    if feedback.block_reason:
        facts.prompt_block = _enum_name(_BlockedReason, feedback.block_reason)
        facts.category = _blocked_category(feedback.safety_ratings)
    if message.candidates:
        candidate = message.candidates[0]
        texts = []
        for part in candidate.content.parts:
            if part.thought:
                if part.text:
                    facts.thoughts.append(part.text)
            elif part.text:
                texts.append(part.text)
        facts.text = "".join(texts)
        if candidate.finish_reason:
            facts.finish_reason = _enum_name(Candidate.FinishReason, candidate.finish_reason)
            facts.category = _blocked_category(candidate.safety_ratings) or facts.category
        if candidate.HasField("grounding_metadata"):
            facts.grounding = from_gemini(GroundingMetadata.wrap(candidate.grounding_metadata))
    # Only a response that carries counts is read for them (Vertex sends them
    # on the last one): a piece without them costs one HasField, and the list
    # by modality is read only where Gemini sent one.
    if message.HasField("usage_metadata"):
        counts = message.usage_metadata
        details = counts.prompt_tokens_details
        by_modality = tuple((_modality_name(count.modality), count.token_count) for count in details) if details else ()
        facts.usage = _usage(counts.prompt_token_count, counts.candidates_token_count, counts.thoughts_token_count,
                             by_modality)
    return facts


def _blocked_category(ratings):
    return next((_enum_name(HarmCategory, rating.category) for rating in ratings if rating.blocked), None)


# --- REST: the JSON element --------------------------------------------------------


def read_json(element):
    """ResponseFacts of one element of the REST stream's JSON array (a dict).

    Google ends a stream that fails midway with an element `{"error": {...}}`;
    it is raised here as the google.api_core exception of its HTTP status, as
    the same failure before the stream would be (the library itself parses it
    as an empty response, and the answer would just stop)."""
    if not isinstance(element, dict):
        raise ValueError(f"Gemini sent a stream element that is not an object: {str(element)[:80]!r}")
    error = element.get("error")
    if error is not None:
        raise _error_from(error)
    facts = ResponseFacts()
    feedback = element.get("promptFeedback") or {}
    if feedback.get("blockReason"):
        facts.prompt_block = _enum_name(_BlockedReason, feedback["blockReason"])
        facts.category = _blocked_category_json(feedback.get("safetyRatings"))
    candidates = element.get("candidates")
    if candidates:
        candidate = candidates[0]
        texts = []
        for part in (candidate.get("content") or {}).get("parts") or ():
            text = part.get("text")
            if not text:
                continue
            if part.get("thought"):
                facts.thoughts.append(text)
            else:
                texts.append(text)
        facts.text = "".join(texts)
        if candidate.get("finishReason"):
            facts.finish_reason = _enum_name(Candidate.FinishReason, candidate["finishReason"])
            facts.category = _blocked_category_json(candidate.get("safetyRatings")) or facts.category
        if candidate.get("groundingMetadata"):
            # Once per answer, at its end: proto-plus's own JSON reading is fine here.
            metadata = GroundingMetadata.from_json(json.dumps(candidate["groundingMetadata"]), ignore_unknown_fields=True)
            facts.grounding = from_gemini(metadata)
    counts = element.get("usageMetadata") or {}
    details = counts.get("promptTokensDetails")
    by_modality = tuple((_modality_name(count.get("modality", 0)), count.get("tokenCount", 0))
                        for count in details if isinstance(count, dict)) if details else ()
    facts.usage = _usage(counts.get("promptTokenCount", 0), counts.get("candidatesTokenCount", 0),
                         counts.get("thoughtsTokenCount", 0), by_modality)
    return facts


def _blocked_category_json(ratings):
    return next((_enum_name(HarmCategory, rating.get("category", 0)) for rating in ratings or () if rating.get("blocked")),
                None)


def _error_from(error):
    """google.api_core's exception for Google's JSON error object."""
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    message = str(error.get("message") or "Gemini ended the answer with an error")
    if not isinstance(code, int):
        return api_exceptions.GoogleAPICallError(message)
    return api_exceptions.from_http_status(code, message)
