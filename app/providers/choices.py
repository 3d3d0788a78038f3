"""The models a conversation may choose (CHAT_MODELS), each built once, when
first asked for.

An answer is stored with its model's label ("Gemini · gemini-2.5-pro", what
the page shows); `for_label` finds the model again from it, so an answer is
generated, regenerated or resumed by the model it says wrote it.
"""

import threading
from dataclasses import replace

from app.providers import build_chat_model, describe_model


class ModelChoices:
    def __init__(self, config, chat_model=None):
        self._config = config
        self.names = config.model_choices
        self.default = config.model
        # Made once: every new answer is saved with its label.
        self._label_of = {name: describe_model(replace(config, model=name)) for name in self.names}
        self._name_of = {label: name for name, label in self._label_of.items()}
        self._fixed = chat_model  # tests: one model plays every name
        self._built = {}
        self._lock = threading.Lock()
        if chat_model is None:
            self._built[config.model] = build_chat_model(config)

    def known(self, name):
        return name in self.names

    def label(self, name):
        return self._label_of[self.choose(name)]

    def choose(self, name):
        """`name` if it may be chosen, else the default."""
        return name if name in self.names else self.default

    def name_for_label(self, label):
        return self._name_of.get(label, self.default)

    def get(self, name=None):
        """The chat model called `name` (the default for None or one not allowed)."""
        if self._fixed is not None:
            return self._fixed
        name = self.choose(name)
        model = self._built.get(name)
        if model is None:
            with self._lock:
                model = self._built.get(name)
                if model is None:
                    model = self._built[name] = build_chat_model(replace(self._config, model=name))
        return model
