"""The local model's speed through the app against llama.cpp alone, same request.

    .venv/bin/python bench/local_model.py [--runs 3] [--max-tokens N]

The model is the app's: its default, or the one CHAT_LOCAL_MODEL names (and
CHAT_LOCAL_THREADS, CHAT_LOCAL_MAX_TOKENS as the app reads them;
--max-tokens overrides the last for both sides).

Alone: in this process, the model loaded as the app loads it
(load_llama) and asked exactly as the app asks it (start_completion:
create_chat_completion(stream=True) on the same messages, with the app's
sampling and max tokens). Through the app: POST /api/chat/stream to a real
gunicorn (one worker, the project's gunicorn.conf.py). Both: time from the
request to the first text, and tokens per second after it (the answer's
tokens, counted with the model's tokenizer, over the time from its first
text to its last). One unmeasured answer on each side first loads the model;
then the two take turns, so other work on the machine weighs on both alike.
Prints medians over the runs and the ratio of the speeds.

On 2 cores with the default (Qwen2.5-Coder-1.5B, answers of ~70 tokens) a
run with the defaults took 49 s on a lightly loaded machine, 6 minutes on a
very busy one. Figures and what they mean: docs/local_model.md.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from servers import gunicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.answers.model_history import to_chat_messages  # noqa: E402
from app.config import load_config  # noqa: E402
from app.providers.local import build_local_model, load_llama, piece_text, start_completion  # noqa: E402

QUESTION = "Explain in a few sentences how a bicycle stays upright."


def timing(started, arrivals, text, llm):
    """(first text in s, tokens/s after it, tokens) of one answer."""
    tokens = len(llm.tokenize(text.encode(), add_bos=False, special=False))
    first, last = arrivals[0], arrivals[-1]
    speed = (tokens - 1) / (last - first) if tokens > 1 and last > first else float("nan")
    return first - started, speed, tokens


def through_app(base, llm):
    started = time.perf_counter()
    arrivals, body = [], b""
    with requests.post(f"{base}/api/chat/stream", json={"message": QUESTION}, stream=True, timeout=600) as r:
        r.raise_for_status()
        for chunk in r.iter_content(chunk_size=None):
            if chunk:
                arrivals.append(time.perf_counter())
                body += chunk
    return timing(started, arrivals, body.decode(), llm)


def alone(llm, model):
    started = time.perf_counter()
    arrivals, text = [], ""
    for part in start_completion(llm, model, to_chat_messages([("user", QUESTION)])):
        piece = piece_text(part["choices"][0])
        if piece:
            arrivals.append(time.perf_counter())
            text += piece
    return timing(started, arrivals, text, llm)


def report(name, results):
    ttft = statistics.median(r[0] for r in results) * 1000
    speed = statistics.median(r[1] for r in results)
    tokens = statistics.median(r[2] for r in results)
    print(f"  {name:<16} first text {ttft:7.0f} ms   {speed:5.1f} tokens/s   (median answer {tokens:.0f} tokens)")
    return speed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, help="the answers' limit (default: the app's, CHAT_LOCAL_MAX_TOKENS)")
    args = parser.parse_args()
    env = {"CHAT_PROVIDER": "local", "CHAT_DEBUG": "1",
           **{k: v for k, v in os.environ.items() if k.startswith("CHAT_LOCAL_")}}
    if args.max_tokens:
        env["CHAT_LOCAL_MAX_TOKENS"] = str(args.max_tokens)
    model = build_local_model(load_config(env))  # the app's model file, threads, sampling and max tokens

    # The bench's own copy of the model (loaded as the app loads it) answers
    # alone and counts the app's tokens. The two take turns, run by run, so
    # other work on the machine weighs on both alike.
    llm = load_llama(model.model_path, model.threads)
    alone_results, app_results = [], []
    with tempfile.TemporaryDirectory() as tmp, gunicorn(Path(tmp), {**env, "GUNICORN_ACCESS_LOG": "/dev/null"}) as (
        base, log, _process,
    ):
        try:
            alone(llm, model)  # warm up
            through_app(base, llm)  # warm up: the worker loads the model
            for _ in range(args.runs):
                alone_results.append(alone(llm, model))
                app_results.append(through_app(base, llm))
        except requests.RequestException:
            print(f"The app's answer failed; the end of its log:\n{log.read_text()[-3000:]}", file=sys.stderr)
            raise

    name = llm.metadata.get("general.name", Path(model.model_path).name)
    print(f"{name}, {llm.n_threads} thread(s), max {model.max_tokens} tokens, "
          f"medians of {args.runs} runs, question: {QUESTION!r}")
    alone_speed = report("llama.cpp alone", alone_results)
    app_speed = report("through the app", app_results)
    print(f"  the app delivers {100 * app_speed / alone_speed:.0f}% of llama.cpp's tokens per second")


if __name__ == "__main__":
    main()
