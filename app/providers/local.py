"""A GGUF model through llama.cpp, as a LangChain chat model: the offline default.

The default is Qwen2.5-Coder-1.5B-Instruct (app/providers/local_weights.py:
its weights from the package registry, checked against a pinned SHA-256);
CHAT_LOCAL_MODEL names another. A model with a chat template in its GGUF is
sent the conversation through it (`create_chat_completion`), its
instructions as the system message; a base model without one (Gemma 3 270M,
the small model the tests use) gets a plain transcript. Either way the
oldest turns are left out to fit its context window, and the answer's stream
says how many (a providers.left_out.LeftOut before its first piece), so the
person is told.

Answers take turns at the model (app/providers/turns.py: a wait that never
blocks a gevent worker's hub), and llama.cpp generates on a native thread of
its own (app/offload.py), so a worker serves its other requests meanwhile.
"""

import atexit
import logging

from app.config import ConfigError
from app.offload import iterate_on_a_thread_of_its_own, run_off_the_hub
from app.providers.ending import Ending
from app.providers.left_out import LeftOut
from app.providers.text_stream import TextStreamingChatModel
from app.providers.turns import turns_for
from app.providers.waiting import Waiting

log = logging.getLogger(__name__)

# For a base model, such as Gemma 3 270M. Of the formats tried (Gemma's
# <start_of_turn> markers, "Question:/Answer:", a "User:/Assistant:"
# transcript under a one-line preamble) the transcript gave the most on-topic
# answers and ended them cleanly; the stop sequences keep it from writing
# the person's next turn itself.
PREAMBLE = (
    "The following is a conversation between a curious person and a helpful, "
    "knowledgeable assistant. The assistant answers clearly and accurately.\n\n"
)
SPEAKERS = {"ai": "Assistant", "human": "User"}
STOP = ["\nUser:", "\nAssistant:"]
CONTEXT_TOKENS = 4096

def format_prompt(messages):
    # The conversation's instructions (a system message) follow the preamble,
    # as the setting every turn happens in, not as something the user said.
    instructions = "".join(f"{m.text.strip()}\n\n" for m in messages if m.type == "system")
    turns = "".join(f"{SPEAKERS[m.type]}: {m.text.strip()}\n" for m in messages if m.type != "system")
    return f"{PREAMBLE}{instructions}{turns}Assistant:"


LOADING = "Loading the offline model…"
# While an answer waits, it says so again this often: the reply pipeline
# counts its wait for a first piece from the last word (CHAT_FIRST_PIECE_TIMEOUT).
WAITING_REPEAT_SECONDS = 10.0


def waiting_words(ahead, loaded):
    if not loaded:
        return LOADING
    return f"Waiting: {ahead} answer{'s' if ahead != 1 else ''} ahead"


_loaded = {}  # (path, threads): Llama, in this process


def load_llama(model_path, threads):
    """The model at `model_path`, loaded once per process (by the answer
    holding the turn, or before any answer)."""
    key = (model_path, threads)
    if key not in _loaded:
        from llama_cpp import Llama

        log.info("loading local model %s", model_path)
        llm = _loaded[key] = Llama(model_path=model_path, n_ctx=CONTEXT_TOKENS, n_threads=threads or None,
                                   verbose=False)
        # Freed while the interpreter is whole: left to Llama.__del__ at exit,
        # llama.cpp's handles are freed after the modules they need are gone,
        # and every worker that answered prints tracebacks as it stops.
        atexit.register(llm.close)
    return _loaded[key]


class LocalChatModel(TextStreamingChatModel):
    model_path: str
    threads: int = 0
    max_tokens: int = 512
    # Qwen's own generation settings for its small instruct models. Against
    # top-p 0.95 and top-k 40 (llama.cpp's), they took the default from 23,
    # 24 and 30 of 34 to 29, 27 and 30 on the everyday prompts over three
    # seeds (docs/local_model.md): fewer unlikely tokens, fewer slips.
    temperature: float = 0.7
    top_p: float = 0.8
    top_k: int = 20
    repeat_penalty: float = 1.1

    @property
    def _llm_type(self):
        return "llama-cpp"

    def stream_text(self, messages, stop=None):
        return LocalAnswer(self, messages, stop)


class LocalAnswer:
    """One answer from the local model: it waits its turn (one llama.cpp
    context answers one question at a time), then llama.cpp generates on a
    native thread of its own while this iterator hands its pieces on.
    `cancel()` (from any thread) gives up the place in the line at once."""

    def __init__(self, model, messages, stop):
        self._model = model
        self._messages = messages
        self._stop = stop
        self._place = None
        self._cancelled = False
        self._pieces = self._generate()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._pieces)

    def close(self):
        self._pieces.close()

    def cancel(self):
        self._cancelled = True
        if self._place is not None:
            self._place.wake()

    def _generate(self):
        model = self._model
        key = (model.model_path, model.threads)
        turns = turns_for(key)
        self._place = place = turns.join()
        try:
            while not self._cancelled:
                ahead = place.ahead
                if not ahead:
                    break
                yield Waiting(waiting_words(ahead, loaded=key in _loaded))
                place.wait_for_change(timeout=WAITING_REPEAT_SECONDS)
            if self._cancelled:
                return
            if key not in _loaded:
                yield Waiting(LOADING)
                # Loading reads the whole file: on a native thread too.
                llm = run_off_the_hub(lambda: load_llama(*key))
                turns.nudge()  # those in line now wait for answers, not for the model
            else:
                llm = _loaded[key]
            yield from self._complete(llm)
        finally:
            place.leave()

    def _complete(self, llm):
        # On the native thread: counting tokens costs CPU too. Closing
        # `parts` (the reader went away, or Stop) ends llama.cpp's
        # generation after its current token, on its own thread.
        left_out = []  # how many turns fitting the context left out, once it is known
        parts = iterate_on_a_thread_of_its_own(
            lambda: start_completion(llm, self._model, self._messages, self._stop, on_left_out=left_out.append))
        try:
            started, finish_reason = False, None
            for part in parts:
                if left_out:  # counted before llama.cpp's first piece
                    yield LeftOut(messages=left_out.pop())
                choice = part["choices"][0]
                text = piece_text(choice)
                finish_reason = choice.get("finish_reason") or finish_reason
                if not started:  # the transcript format puts a space after "Assistant:"
                    text = text.lstrip()
                    started = bool(text)
                if text:
                    yield text
            if left_out:
                yield LeftOut(messages=left_out.pop())
            # llama.cpp says "length" when it hit max_tokens: the answer
            # is cut off, and the person should know.
            yield Ending("MAX_TOKENS" if finish_reason == "length" else "STOP")
        finally:
            parts.close()


def start_completion(llm, model, messages, stop=None, on_left_out=None, **extra):
    """llama.cpp's streamed answer to LangChain `messages`, asked for as
    every answer is (bench/local_model.py and bench/everyday_prompts.py
    call this too, so they measure what the app sends; `extra`: a seed).
    `on_left_out(n)` hears how many of the oldest turns did not fit the
    context window, if any did not."""
    sampling = dict(max_tokens=model.max_tokens, temperature=model.temperature, top_p=model.top_p,
                    top_k=model.top_k, repeat_penalty=model.repeat_penalty, stream=True, **extra)
    if llm.metadata.get("tokenizer.chat_template"):  # the model's own template, and its own end-of-turn token
        whole = chat_messages(messages)
        chat = fit_context(llm, whole, model.max_tokens)
        _say_left_out(len(whole) - len(chat), on_left_out)
        return llm.create_chat_completion(chat, stop=list(stop or []) or None, **sampling)
    kept = fit_transcript(llm, messages, model.max_tokens)
    _say_left_out(len(messages) - len(kept), on_left_out)
    return llm.create_completion(format_prompt(kept), stop=STOP + list(stop or []), **sampling)


def _say_left_out(turns, on_left_out):
    if turns:
        log.info("local model: the %d oldest turns of the conversation left out to fit its context window", turns)
        if on_left_out is not None:
            on_left_out(turns)


def piece_text(choice):
    """The text of one streamed piece, from a chat or a plain completion."""
    return (choice["delta"].get("content") or "") if "delta" in choice else choice["text"]


ROLES = {"system": "system", "human": "user", "ai": "assistant"}
# What a chat template adds around each message (ChatML: <|im_start|>role\n
# ... <|im_end|>\n), with a margin.
TEMPLATE_TOKENS_PER_MESSAGE = 8


def chat_messages(messages):
    """LangChain messages as the chat template reads them; the conversation's
    instructions stay its system message."""
    return [{"role": ROLES[m.type], "content": m.text} for m in messages if m.type in ROLES]


def fit_context(llm, messages, max_tokens, reserved_tokens=0):
    """`messages` less their oldest turns, until they, `reserved_tokens` and
    an answer of `max_tokens` fit the context window. The system message and
    the newest turn are always kept."""
    def size(message):
        return len(llm.tokenize(message["content"].encode(), add_bos=False, special=False)) + TEMPLATE_TOKENS_PER_MESSAGE

    budget = llm.n_ctx() - max_tokens - reserved_tokens
    system = [m for m in messages if m["role"] == "system"]
    turns = [m for m in messages if m["role"] != "system"]
    used = sum(size(m) for m in system) + size(turns[-1])
    kept = [turns[-1]]
    for message in reversed(turns[:-1]):
        used += size(message)
        if used > budget:
            break
        kept.append(message)
    return system + list(reversed(kept))


def fit_transcript(llm, messages, max_tokens):
    """LangChain `messages` less their oldest turns, until their transcript
    (format_prompt) and an answer of `max_tokens` fit the context window: a
    prompt longer than the window is refused by llama.cpp. Each turn's
    "User: " and line end are within TEMPLATE_TOKENS_PER_MESSAGE."""
    preamble = len(llm.tokenize(f"{PREAMBLE}Assistant:".encode(), add_bos=True, special=False))
    kept = len(fit_context(llm, chat_messages(messages), max_tokens, reserved_tokens=preamble))
    system = [m for m in messages if m.type == "system"]
    turns = [m for m in messages if m.type != "system"]
    return system + turns[len(system) + len(turns) - kept:]


def model_file(config):
    from app.providers.local_weights import model_path

    return model_path(config.local_model_path)


def require_llama_cpp():
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        raise ConfigError(
            "llama-cpp-python is not installed: run `make install`, or set GOOGLE_CLOUD_PROJECT to use Gemini"
        ) from None


def build_local_model(config):
    require_llama_cpp()
    path = model_file(config)
    # Only a look at the file here: it is loaded by the first answer, which
    # says so to the person waiting ("Loading the offline model…").
    try:
        with open(path, "rb") as weights:
            magic = weights.read(4)
    except OSError as error:
        raise ConfigError(f"the local model at {path} cannot be read ({error}); set CHAT_LOCAL_MODEL") from None
    if magic != b"GGUF":
        raise ConfigError(f"the local model at {path} is not a GGUF file; set CHAT_LOCAL_MODEL") from None
    return LocalChatModel(model_path=path, threads=config.local_threads, max_tokens=config.local_max_tokens)
