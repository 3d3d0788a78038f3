"""Completions, chunks and model lists in OpenAI's shapes, from the reply
pipeline's events (app/answers/reply_pipeline.py). Pure functions of their
inputs: tested without a server.

How Gemini's outcomes read in OpenAI's terms:
- `finish_reason`: "stop" (complete), "length" (cut at the length limit,
  Gemini's MAX_TOKENS) or "content_filter" (Gemini's safety filters: a
  blocked answer or question, recitation...);
- extras on the choice: `native_finish_reason` (Gemini's own word: STOP,
  MAX_TOKENS, SAFETY, RECITATION, or a blocked question's reason) and, when
  the answer did not simply end, `finish_message` (the sentence the product
  shows a person about it);
- the model's thought summaries as `reasoning_content` (the convention of
  vLLM, DeepSeek and LiteLLM), never in `content`;
- `usage` with `completion_tokens_details.reasoning_tokens`; as in OpenAI's,
  `completion_tokens` counts the thinking too; `prompt_tokens_details` has
  OpenAI's `audio_tokens` (and `cached_tokens`, 0: the app does not use
  Gemini's context cache) and, an extra, `image_tokens` and `video_tokens`
  of the input as Gemini counted them, 0 when none or when it did not say;
- a grounded answer's sources as a top-level `citations` list of
  {"uri", "title"}, as the JSON API gives them.
A model that failed is not a completion: it is an error (routes.py).
"""

import json

from app.answers.outcomes import BLOCKED, COMPLETE, TRUNCATED

FINISH_REASONS = {COMPLETE: "stop", TRUNCATED: "length", BLOCKED: "content_filter"}
DONE = "data: [DONE]\n\n"
PING = ": ping\n\n"


def owner_of_models(provider):
    return {"vertexai": "google", "local": "local"}.get(provider, provider)


def model_object(name, label, provider):
    # `created` is unknown for a model this server did not make: 0.
    return {"id": name, "object": "model", "created": 0, "owned_by": owner_of_models(provider), "label": label}


def model_list(models, provider):
    return {"object": "list", "data": [model_object(name, models.label(name), provider) for name in models.names]}


def usage_object(usage):
    """OpenAI's usage from the pipeline's Usage, or None when the model did not say."""
    if usage is None:
        return None
    reasoning = usage.reasoning_tokens or 0
    completion = usage.output_tokens + reasoning
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": completion,
        "total_tokens": usage.input_tokens + completion,
        "prompt_tokens_details": {
            "cached_tokens": 0,
            "audio_tokens": usage.input_tokens_of("audio"),
            "image_tokens": usage.input_tokens_of("image"),
            "video_tokens": usage.input_tokens_of("video"),
        },
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def finish_extras(finished):
    """The choice's extras about how the answer ended."""
    extras = {"native_finish_reason": finished.finish_reason}
    if finished.outcome != COMPLETE:
        extras["finish_message"] = finished.error
    return extras


def citations(finished):
    return {"citations": finished.grounding.citations()} if finished.grounding else {}


class Completion:
    """One completion's id, time and model, shared by its chunks."""

    def __init__(self, completion_id, created, model):
        self.id = completion_id
        self.created = created
        self.model = model
        # A content chunk is most of a stream's events: its JSON around the
        # text is made once, and only the text is encoded per piece (what
        # `chunk` would give, at a fraction of its CPU: bench/concurrency.py --route v1).
        head, _, tail = self.chunk({"content": ""}).partition('"content":""')
        self._content_head, self._content_tail = head + '"content":', tail

    def _envelope(self, kind):
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def whole(self, finished):
        """The `chat.completion` of a finished answer (complete, cut at length, or blocked)."""
        message = {"role": "assistant", "content": finished.text, "refusal": None}
        if finished.thoughts:
            message["reasoning_content"] = finished.thoughts
        choice = {"index": 0, "message": message, "finish_reason": FINISH_REASONS[finished.outcome],
                  "logprobs": None, **finish_extras(finished)}
        return {**self._envelope("chat.completion"), "choices": [choice], "usage": usage_object(finished.usage),
                **citations(finished)}

    def chunk(self, delta, finish_reason=None, top=None, **extras):
        """One `chat.completion.chunk` event; `top` adds top-level fields."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None, **extras}
        return event(self._envelope("chat.completion.chunk") | {"choices": [choice]} | (top or {}))

    def first_chunk(self):
        return self.chunk({"role": "assistant", "content": ""})

    def content_chunk(self, text):
        return self._content_head + json.dumps(text, ensure_ascii=False) + self._content_tail

    def reasoning_chunk(self, text):
        return self.chunk({"reasoning_content": text})

    def last_chunks(self, finished, include_usage):
        """The chunk with the finish reason (and citations), the usage chunk
        when asked (`stream_options.include_usage`), then [DONE]."""
        last = self.chunk({}, FINISH_REASONS[finished.outcome], citations(finished), **finish_extras(finished))
        if include_usage:
            last += event(self._envelope("chat.completion.chunk") | {
                "choices": [], "usage": usage_object(finished.usage)})
        return last + DONE


def event(payload):
    """One SSE event; JSON escapes every newline, so one `data:` line holds it."""
    return f"data: {json.dumps(payload, ensure_ascii=False, separators=(',', ':'))}\n\n"


def error_event(error_object):
    """What ends a stream that failed: OpenAI's SDKs raise it (APIError)."""
    return event({"error": error_object})
