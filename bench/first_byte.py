"""First-byte time of POST /api/chat/stream under a real gunicorn, fake provider.

    .venv/bin/python bench/first_byte.py [--requests 200] [--ttft-ms 0]

Sequential requests on one keep-alive connection; prints the median and p90 of
the time from sending the request to the first body byte, minus the fake
model's configured time to first token.
"""

import argparse
import http.client
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from servers import gunicorn


def first_byte_times(base, count, message):
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port))
    body = json.dumps({"message": message})
    times = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("POST", "/api/chat/stream", body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read(1)
        times.append(time.perf_counter() - started)
        response.read()
    connection.close()
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--ttft-ms", type=int, default=0)
    args = parser.parse_args()
    env = {"CHAT_FAKE_TTFT_MS": str(args.ttft_ms), "CHAT_FAKE_CHUNKS": "20", "GUNICORN_ACCESS_LOG": "/dev/null"}
    with tempfile.TemporaryDirectory() as tmp, gunicorn(Path(tmp), env) as (base, _log, _process):
        first_byte_times(base, 20, "warm up")
        times = first_byte_times(base, args.requests, "What is baseball? " * 5)
    over = sorted((t - args.ttft_ms / 1000) * 1000 for t in times)
    print(f"machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores")
    print(f"/api/chat/stream first byte over TTFT ({args.requests} requests, fake TTFT {args.ttft_ms} ms):")
    print(f"  median {statistics.median(over):.2f} ms, p90 {over[int(len(over) * 0.9)]:.2f} ms, max {over[-1]:.2f} ms")


if __name__ == "__main__":
    main()
