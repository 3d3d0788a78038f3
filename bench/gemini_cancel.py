"""How soon Gemini stops after nobody needs the answer, on both transports.

    .venv/bin/python bench/gemini_cancel.py [--trials 10]

A real gunicorn (gevent, one worker) on provider=vertexai points at the
Vertex AI stand-in of the tests (gRPC over TLS, and REST), which streams a
long answer (400 pieces, 50 ms apart). Per trial, a program asks on
POST /api/chat/stream with its own history (an answer bound to its request),
reads the first piece and closes its connection; the time from that close
to the moment the stand-in sees its call end (`gone`) is the figure. Then a
silent upstream: the stand-in goes quiet after one piece and the app's stall
timeout (1 s) fires; the figure is from the timeout to the call's end.
Prints the median and worst per transport.
"""

import argparse
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy.stack import gunicorn  # noqa: E402
from tests.providers.tls_certificate import session_certificate  # noqa: E402
from tests.providers.vertex_standin import Script, VertexStandIn  # noqa: E402

LONG = Script(pieces=[f"w{i} " for i in range(400)], delay=0.05)
STALL_TIMEOUT = 1.0


def ask(base, message="hi"):
    """A raw POST /api/chat/stream with its own (empty) history: the socket,
    once the headers and the first piece have come."""
    host, port = base.removeprefix("http://").split(":")
    body = json.dumps({"message": message, "history": []}).encode()
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(b"POST /api/chat/stream HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    received = b""
    while b"\r\n\r\n" not in received or not received.split(b"\r\n\r\n", 1)[1]:
        received += sock.recv(65536)
    return sock


def leave_early(base, standin):
    """Seconds from the client's close to the stand-in seeing the call end."""
    standin.respond(LONG)
    sock = ask(base)
    request = standin.requests[-1]
    sock.close()
    closed_at = time.monotonic()
    if not request.gone.wait(30):
        return float("inf")
    return request.gone_at - closed_at


def stall(base, standin):
    """Seconds from the stall timeout firing to the stand-in seeing the call end."""
    standin.respond(pieces=["one ", "two"], stall_after=1, stall_seconds=60)
    sock = ask(base)
    first_at = time.monotonic()
    request = standin.requests[-1]
    received = b""
    while not received.endswith(b"0\r\n\r\n"):  # the app ends the answer with its timed-out line
        received += sock.recv(65536)
    sock.close()
    if not request.gone.wait(30):
        return float("inf")
    return request.gone_at - (first_at + STALL_TIMEOUT)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=10)
    args = parser.parse_args()
    session_certificate()  # before any gRPC channel, here and in the server it starts
    for transport in ("grpc", "rest"):
        with VertexStandIn(transport=transport) as standin, tempfile.TemporaryDirectory() as tmp:
            env = {
                "CHAT_PROVIDER": "vertexai", "GOOGLE_CLOUD_PROJECT": "bench", "CHAT_VERTEX_TRANSPORT": transport,
                "CHAT_VERTEX_BASE_URL": standin.base_url, "CHAT_STALL_TIMEOUT": str(STALL_TIMEOUT),
                "CHAT_UPSTREAM_RETRIES": "0",
            }
            with gunicorn(Path(tmp), env) as (base, _log, _process):
                for name, trial in (("client leaves", leave_early), ("stall timeout", stall)):
                    times = [trial(base, standin) * 1000 for _ in range(args.trials)]
                    print(f"{transport:5} {name:14} median {statistics.median(times):7.1f} ms   "
                          f"worst {max(times):7.1f} ms   ({args.trials} trials)")


if __name__ == "__main__":
    main()
