"""What one request may ask of a model beyond its messages: sampling settings
(length, temperature, stop sequences...) and images.

The models are built once per process and shared by every answer, so a
request's settings go on a copy (`with_sampling`), never on the shared model.
A setting is offered where the provider's model has a field for it: Gemini
(ChatVertexAI) has them all; the local model its length, temperature and
top_p; the fake model none. One it lacks is refused by name (`NotOffered`),
never silently dropped.
"""

from dataclasses import asdict, dataclass

# A setting's name as the request gives it -> the model fields that hold it,
# first match wins (ChatVertexAI calls the length `max_output_tokens`).
_FIELDS = {
    "max_tokens": ("max_output_tokens", "max_tokens"),
    "temperature": ("temperature",),
    "top_p": ("top_p",),
    "stop": ("stop",),
    "seed": ("seed",),
    "presence_penalty": ("presence_penalty",),
    "frequency_penalty": ("frequency_penalty",),
}

# Gemini reads inline images; the offline models read text only.
PROVIDERS_THAT_READ_IMAGES = frozenset({"vertexai"})


@dataclass(frozen=True)
class Sampling:
    """None leaves the model's own setting."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple | None = None
    seed: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None

    def asked(self):
        return {name: value for name, value in asdict(self).items() if value is not None}


class NotOffered(Exception):
    """A setting the model cannot honour; `setting` is its name."""

    def __init__(self, setting):
        super().__init__(setting)
        self.setting = setting


def with_sampling(model, sampling):
    """`model` itself when nothing is asked, else a copy with `sampling` set
    (sharing its client and connections), or NotOffered."""
    asked = sampling.asked()
    if not asked:
        return model
    fields = type(model).model_fields
    update = {}
    for name, value in asked.items():
        field = next((candidate for candidate in _FIELDS[name] if candidate in fields), None)
        if field is None:
            raise NotOffered(name)
        if name == "max_tokens" and getattr(model, field) is not None:
            # The operator's length limit (CHAT_LOCAL_MAX_TOKENS) bounds what a
            # request may ask: a request may shorten an answer, not lengthen it.
            value = min(value, getattr(model, field))
        update[field] = list(value) if name == "stop" else value
    return model.model_copy(update=update)


def reads_images(config):
    return config.provider in PROVIDERS_THAT_READ_IMAGES
