"""The local model's speed through the app against llama.cpp alone, same prompt.

    .venv/bin/python bench/local_model.py [--runs 5] [--max-tokens 128]

Through the app: POST /api/chat/stream under a real gunicorn (one worker,
the project's gunicorn.conf.py), time to first byte and pieces per second
after it (each piece is one llama.cpp token). Alone: llama-cpp-python's
create_completion(stream=True) on the prompt the app builds, in this process.
Prints medians over the runs.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests
from servers import gunicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUESTION = "Explain in a few sentences how a bicycle stays upright."


def rate(first, last, count):
    return (count - 1) / (last - first) if count > 1 and last > first else float("nan")


def through_app(base, max_tokens):
    started = time.perf_counter()
    arrivals = []
    with requests.post(f"{base}/api/chat/stream", json={"message": QUESTION}, stream=True, timeout=300) as r:
        for _ in r.iter_content(chunk_size=None):
            arrivals.append(time.perf_counter())
    return arrivals[0] - started, rate(arrivals[0], arrivals[-1], len(arrivals)), len(arrivals)


def llama_alone(max_tokens):
    from langchain_core.messages import HumanMessage

    from app.config import load_config
    from app.providers.local import STOP, format_prompt, load_llama, model_file

    llm = load_llama(model_file(load_config({"CHAT_PROVIDER": "local", "CHAT_DEBUG": "1"})), 0)
    started = time.perf_counter()
    arrivals = []
    for part in llm.create_completion(
        format_prompt([HumanMessage(QUESTION)]), max_tokens=max_tokens, stop=STOP,
        temperature=0.7, top_p=0.95, repeat_penalty=1.1, stream=True,
    ):
        if part["choices"][0]["text"]:
            arrivals.append(time.perf_counter())
    return arrivals[0] - started, rate(arrivals[0], arrivals[-1], len(arrivals)), len(arrivals)


def report(name, results):
    ttft = statistics.median(r[0] for r in results) * 1000
    speed = statistics.median(r[1] for r in results)
    tokens = statistics.median(r[2] for r in results)
    print(f"  {name:<16} first token {ttft:7.1f} ms   {speed:5.1f} tokens/s   ({tokens:.0f} tokens)")
    return speed


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=128)
    args = parser.parse_args()
    env = {"CHAT_PROVIDER": "local", "CHAT_LOCAL_MAX_TOKENS": str(args.max_tokens), "GUNICORN_ACCESS_LOG": "/dev/null"}
    with tempfile.TemporaryDirectory() as tmp, gunicorn(Path(tmp), env) as (base, _log, _process):
        through_app(base, args.max_tokens)  # warm up
        app_results = [through_app(base, args.max_tokens) for _ in range(args.runs)]
    llama_alone(args.max_tokens)
    alone_results = [llama_alone(args.max_tokens) for _ in range(args.runs)]
    print(f"Gemma 3 270M Q4_K_M, medians of {args.runs} runs, prompt: {QUESTION!r}")
    app_speed = report("through the app", app_results)
    alone_speed = report("llama.cpp alone", alone_results)
    print(f"  the app delivers {100 * app_speed / alone_speed:.0f}% of llama.cpp's tokens per second")


if __name__ == "__main__":
    main()
