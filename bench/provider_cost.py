"""CPU per piece of reading each provider's answer, in one gevent process.

    .venv/bin/python bench/provider_cost.py [--provider fake grpc rest] [--answers 200] [--runs 3]

No HTTP server, no reply pipeline: only the provider seam
(`text_stream.stream_text`), the part the real Gemini client adds to an
answer. `--answers` answers run at once, each read to its end by a greenlet,
as a gevent worker reads them (gRPC told about gevent first, as
gunicorn.conf.py's post_worker_init does). The fake model plays the
concurrency bench's model (300 ms to the first piece, 60 pieces 50 ms apart);
for grpc and rest ChatVertexAI talks to bench/vertex_standin.py, which answers
the same way from its own process (its CPU is not counted).

Prints, per provider, the median over runs of the process's CPU time (user +
system, every thread: gRPC's own I/O threads and gevent's thread pool
included) per piece and per answer, and its threads' share. The gap between
fake and grpc/rest is what the Gemini client costs (docs/benchmarks.md).
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402 - after gevent's patching, as in a worker
import gc  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

import servers  # noqa: E402,F401 - puts the project on sys.path
from concurrency import vertex_env  # noqa: E402
from vertex_standin import standin_process  # noqa: E402

TTFT_MS, CHUNK_MS, CHUNKS = 300, 50, 60


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_by_thread():
    """CPU seconds so far of this process's threads, by name (the main thread,
    which runs the hub and every greenlet, as "main")."""
    seconds = Counter()
    for task in Path("/proc/self/task").iterdir():
        stat = (task / "stat").read_text()
        name = "main" if task.name == str(os.getpid()) else stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        seconds[name] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def build_model(provider, base_url=None, cert_path=None):
    from app.config import load_config
    from app.providers import build_chat_model

    env = {"CHAT_DEBUG": "1", "CHAT_PROVIDER": "fake", "CHAT_FAKE_TTFT_MS": str(TTFT_MS),
           "CHAT_FAKE_CHUNK_MS": str(CHUNK_MS), "CHAT_FAKE_CHUNKS": str(CHUNKS)}
    if provider != "fake":
        env = vertex_env(env, provider, base_url, cert_path)
        os.environ.update({k: v for k, v in env.items() if k.startswith("GRPC_")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return build_chat_model(load_config(env))


def one_run(model, answers):
    """(CPU seconds, pieces, CPU by thread) of reading `answers` answers at once."""
    from langchain_core.messages import HumanMessage

    from app.providers.text_stream import stream_text

    questions = [[HumanMessage(f"question {i} " * 100)] for i in range(answers)]
    counts = []

    def read(messages):
        counts.append(sum(isinstance(piece, str) for piece in stream_text(model, messages)))

    gc.collect()
    gc.freeze()  # as gunicorn.conf.py does once the app is loaded
    threads_before, before = cpu_by_thread(), cpu_seconds()
    gevent.joinall([gevent.spawn(read, messages) for messages in questions])
    spent = cpu_seconds() - before
    by_thread = cpu_by_thread()
    by_thread.subtract(threads_before)
    return spent, sum(counts), by_thread


def measure(provider, args, tmp):
    if provider == "fake":
        return [one_run(build_model("fake"), args.answers) for _ in range(args.runs + 1)][1:]
    with standin_process(provider, tmp, TTFT_MS, CHUNK_MS, CHUNKS, nice=args.standin_nice) as (url, _pid, cert):
        model = build_model(provider, url, cert)
        one_run(model, 4)  # warm up: the client, its channel or connections, imports
        return [one_run(model, args.answers) for _ in range(args.runs)]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", nargs="+", choices=("fake", "grpc", "rest"), default=["fake", "grpc", "rest"])
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--standin-nice", type=int, default=-10, help="the stand-in's nice value (best effort)")
    args = parser.parse_args()
    if "grpc" in args.provider:
        # As gunicorn.conf.py's post_worker_init does, before any channel exists.
        from app.providers.grpc_gevent import cooperate_with_gevent

        cooperate_with_gevent()
    print(f"{args.answers} answers at once, {CHUNKS} pieces each, {args.runs} runs; medians", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-provider-cost-") as tmp:
        for provider in args.provider:
            runs = measure(provider, args, Path(tmp))
            per_piece = statistics.median(1e6 * spent / pieces for spent, pieces, _ in runs)
            per_answer = statistics.median(1e3 * spent / args.answers for spent, _, _ in runs)
            threads = runs[-1][2]
            total = sum(threads.values()) or 1
            shares = ", ".join(f"{name} {100 * seconds / total:.0f}%" for name, seconds in threads.most_common(3)
                               if seconds > 0)
            print(f"  {provider:5} {per_piece:6.0f} us/piece  {per_answer:6.2f} ms/answer  "
                  f"(pieces {runs[-1][1]}/{args.answers * CHUNKS}; threads: {shares})", flush=True)


if __name__ == "__main__":
    sys.exit(main())
