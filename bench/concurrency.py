"""Many simultaneous answers through the production stack, on the fake model or Gemini's client.

    .venv/bin/python bench/concurrency.py [--n 1 100 500 1000] [--runs 3]
        [--route api|api-stored|v1|api-vs-v1|page|page-floor|page-vs-floor|both|all] [--worker-class gevent|gthread] [--workers 2]
        [--threads T] [--direct] [--metrics] [--wait-idle S] [--json out.json]
        [--profile PY_SPY [--profile-dir DIR]]
    .venv/bin/python bench/concurrency.py --resume-storm [--cut-after-pieces 10] [--n 1000] ...

Starts gunicorn with the project's gunicorn.conf.py behind nginx rendered from
deploy/nginx.conf (deploy.stack; `--direct` skips nginx), a fresh stack and
SQLite file for each route and N. The fake provider plays a Gemini-like
answer: 300 ms to the first piece, then 59 more pieces 50 ms apart (ideal
total 0.3 + 59 x 0.05 = 3.25 s). N streams are opened at once by the asyncio
load generator in bench/loadgen.py (raw sockets, HTTP/1.1, every piece
timestamped on arrival), on `POST /api/chat/stream` and/or on the page route:
`POST /messages` (htmx), which answers with the new bubbles (text/html), then
`GET /answers/<id>/events` (text/event-stream), the subscription those bubbles
name; on the page every time counts from the POST, so the first piece
includes the POST's round trip and the GET. Every stream is its own client:
on the API its own key (CHAT_API_KEYS is set to N random keys), on the page
its own browser session (cookie and CSRF token from a GET / before the runs),
so the app's per-client limits apply as they would to N people. Each stream
has a timeout and the script stops by itself.

`--route page-floor` runs the same page client against bench/page_floor.py
instead of the app, under the same gunicorn config, workers and nginx: the
cheapest honest app of the page's two-request shape, the floor to read the
page route against (`page-vs-floor`: both routes, one after the other).

Per N, the median over `--runs` runs of:
  first piece - request start - TTFT         p50, p99 (ms; page: from the POST)
  gap between pieces - model gap             p50, p99, max (ms)
  stream total / ideal total                 p50, p99
  complete and byte-exact streams            out of N (worst run)
  server memory                              peak sum of RSS of gunicorn master + workers
  server CPU per piece                       utime+stime of gunicorn (and nginx) over the
                                             run / pieces delivered (us)
  load generator                             its CPU share of one core, worst loop lag
  others                                     cores used by every other process meanwhile
The JSON also has every run, connect times, the page's opening (when the
POST's response, the new bubbles, had arrived) and first byte of the event
stream (its `: stream open` comment), PSS, CPU per gunicorn process, the
kernel's listen-queue overflows and the server's logged errors. The page's
opening p50 / p99 is printed below the table.

`--resume-storm` (page route only): N answers open at once; once every one has
received at least `--cut-after-pieces` pieces (default 10, i.e. mid-answer
with the default model profile), every client's GET connection is closed at
once, and each is reopened at once with `Last-Event-ID` set to the last event
id that client read. Reported per N: byte-exact streams (the text before the
cut and after it, joined, is the message, and every event id matched the
text so far, so nothing came twice), the time to resume (from the reopen to
the first piece after it, or to the final event if the answer ended
meanwhile) p50 / p99 / max, and the storm's total (from the cut to the end
of the last reopened stream), besides the usual columns.

The load generator shares the machine with the servers. It runs at nice -10
(`--client-nice`; the servers stay at 0) so that its own timestamps stay
honest: real clients do not share the server's CPU. `--wait-idle S` waits up
to S seconds before each run for other processes to go quiet; the `others`
column says how quiet it was.

`--profile PY_SPY` adds one more run per N (not counted) with
`PY_SPY record --format raw` attached to every gunicorn worker; the folded
stacks go to `--profile-dir` and the hottest functions are printed.

`--provider fake grpc rest` (default `fake`) measures the same load on each
model path named, side by side: `fake` is the fake model inside the app;
`grpc` and `rest` are the real Gemini client (CHAT_PROVIDER=vertexai,
LangChain's ChatVertexAI) on that transport, against bench/vertex_standin.py,
a local asyncio stand-in for Vertex AI that answers exactly like the fake
model (same echo, same cut, same clock). Each provider gets its own fresh
stack per route and N, a stand-in process included. The stand-in runs at the
load generator's nice value (`--client-nice`): the real Vertex AI does not
share the app's CPU, and at nice 0 on a busy machine it sent pieces tens of
ms late, which the table would have blamed on the app. The `vtx us` column
is its own CPU per piece, to show what it took.
"""

import argparse
import asyncio
import json
import math
import os
import platform
import secrets
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from pathlib import Path

from loadgen import make_message, open_sessions, raise_fd_limit, run_resume_storm, run_streams
from servers import gunicorn, nginx
from vertex_standin import standin_process

SECRET_KEY = secrets.token_hex(32)
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
# The routes of loadgen's page client, and the app a route's stack runs if not the project's.
PAGE_ROUTES = ("page", "page-floor")
APP_MODULES = {"page-floor": "bench.page_floor:app"}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# --- /proc ------------------------------------------------------------------


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def cpu_seconds(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def machine_busy_seconds():
    """CPU seconds all processes have used (every core), from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def listen_overflows():
    """TcpExt ListenOverflows: connections dropped because a listen queue was full."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            table = dict(zip(names.split()[1:], values.split()[1:]))
            return int(table.get("ListenOverflows", 0))
    return 0


def self_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rss_bytes(pid):
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_SIZE
    except OSError:
        return 0


def pss_bytes(pid):
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class ProcessGroup:
    """A master and its children (re-read each time: workers may be replaced)."""

    def __init__(self, master):
        self.master = master

    def pids(self):
        return [self.master, *children(self.master)]

    def cpu(self):
        return {pid: cpu_seconds(pid) or 0.0 for pid in self.pids()}


def cpu_delta(before, after):
    # A worker that appeared during the run counts from zero; one that went
    # away is lost (reported by the worker count).
    return sum(after[pid] - before.get(pid, 0.0) for pid in after)


# --- the stack -----------------------------------------------------------------


def server_env(args):
    env = {
        "CHAT_PROVIDER": "fake",
        "CHAT_FAKE_TTFT_MS": str(args.ttft_ms),
        "CHAT_FAKE_CHUNK_MS": str(args.chunk_ms),
        "CHAT_FAKE_CHUNKS": str(args.chunks),
        "GUNICORN_WORKERS": str(args.workers),
        "GUNICORN_WORKER_CLASS": args.worker_class,
        "GUNICORN_LOG_LEVEL": "warning",
        # as in production: a real secret, and the API behind keys, one per
        # simulated program (the app limits simultaneous streams per client)
        "SECRET_KEY": SECRET_KEY,
        "CHAT_API_KEYS": ",".join(args.api_keys),
    }
    if not args.direct:
        env["CHAT_PROXY_HOPS"] = "1"
    if args.threads:
        env["GUNICORN_THREADS"] = str(args.threads)
    if args.worker_connections:
        env["GUNICORN_WORKER_CONNECTIONS"] = str(args.worker_connections)
    if args.access_log is not None:
        env["GUNICORN_ACCESS_LOG"] = args.access_log
    if args.metrics:
        env["CHAT_METRICS"] = "1"
    return env


def vertex_env(env, transport, base_url, cert_path):
    """`env` with the real Gemini client (app/providers/vertexai.py) in place of
    the fake model, talking to the stand-in at `base_url` over `transport`."""
    env = {name: value for name, value in env.items() if not name.startswith("CHAT_FAKE_")}
    env.update({
        "CHAT_PROVIDER": "vertexai",
        "GOOGLE_CLOUD_PROJECT": "bench-project",  # any id: the stand-in takes no credentials
        "CHAT_MODEL": "gemini-2.5-flash",
        "CHAT_VERTEX_TRANSPORT": transport,
        "CHAT_VERTEX_BASE_URL": base_url,
    })
    if cert_path:
        # gRPC is always TLS; the workers' channels must trust the stand-in's certificate.
        env["GRPC_DEFAULT_SSL_ROOTS_FILE_PATH"] = str(cert_path)
    return env


def nginx_master(prefix, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return int((prefix / "nginx.pid").read_text().strip())
        except (OSError, ValueError):
            time.sleep(0.05)
    return None


def set_own_nice(value):
    """Nice value of this thread only (Linux: per thread), so the servers,
    started while it is 0, keep 0. Lowering it needs CAP_SYS_NICE; best effort."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, value)
    except OSError:
        pass
    return os.getpriority(os.PRIO_PROCESS, 0)


@contextmanager
def production_stack(args, app_module="wsgi:app", provider="fake"):
    """Yields (host, port, gunicorn ProcessGroup, nginx ProcessGroup or None, gunicorn log,
    Vertex stand-in ProcessGroup or None). `provider` grpc or rest: a stand-in
    (bench/vertex_standin.py) is started first, and the app uses Gemini's client against it."""
    set_own_nice(0)  # children inherit it
    with tempfile.TemporaryDirectory(prefix="bench-concurrency-") as tmp, ExitStack() as stack:
        tmp_path = Path(tmp)
        env, standin = server_env(args), None
        if provider != "fake":
            # At the load generator's nice, for the same reason: the real
            # Vertex AI does not share the app's CPU, and must keep its clock.
            base_url, standin_pid, cert_path = stack.enter_context(standin_process(
                provider, tmp_path, args.ttft_ms, args.chunk_ms, args.chunks, nice=args.client_nice))
            env, standin = vertex_env(env, provider, base_url, cert_path), ProcessGroup(standin_pid)
        base, log, process = stack.enter_context(gunicorn(tmp_path, env, app_module=app_module))
        proxy = None
        if not args.direct:
            # Without the site's per-address limits: every simulated client
            # here is 127.0.0.1, and the site caps one address far below 1,000.
            base, prefix = stack.enter_context(nginx(tmp_path, [base], client_limits=False))
            master = nginx_master(prefix)
            proxy = ProcessGroup(master) if master else None
        host, port = base.removeprefix("http://").split(":")
        app = ProcessGroup(process.pid)
        deadline = time.monotonic() + 30
        while len(app.pids()) < args.workers + 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        args.client_nice_applied = set_own_nice(args.client_nice)
        try:
            yield host, int(port), app, proxy, log, standin
        finally:
            set_own_nice(0)


# --- one run -------------------------------------------------------------------


def quantile(values, q):
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def spread(name, values, unit="_ms", with_max=True):
    """Summary fields `{name}_p50{unit}`, `_p99` and (with_max) `_max` of `values`."""
    fields = {f"{name}_p50{unit}": quantile(values, 0.5), f"{name}_p99{unit}": quantile(values, 0.99)}
    if with_max:
        fields[f"{name}_max{unit}"] = max(values, default=math.nan)
    return fields


def others_load(app, proxy, seconds=1.0):
    """Cores used by processes other than the stack and this script, over `seconds`."""
    groups = [g for g in (app, proxy) if g]
    before = [g.cpu() for g in groups]
    busy, own = machine_busy_seconds(), self_cpu_seconds()
    time.sleep(seconds)
    ours = sum(cpu_delta(b, g.cpu()) for b, g in zip(before, groups)) + self_cpu_seconds() - own
    return max(0.0, machine_busy_seconds() - busy - ours) / seconds


def wait_for_quiet(args, app, proxy):
    """Up to --wait-idle seconds for the rest of the machine to go quiet (the
    machine may be shared); returns the load seen last."""
    deadline = time.monotonic() + args.wait_idle
    load = others_load(app, proxy)
    while load > args.idle_threshold and time.monotonic() < deadline:
        load = others_load(app, proxy, 2.0)
    if load > args.idle_threshold and args.wait_idle:
        print(f"  (other processes still use {load:.2f} cores; measuring anyway)", flush=True)
    return load


def log_errors(log_path, offset, limit=5):
    """The most common error lines the server logged since `offset`."""
    if not log_path or not log_path.exists():
        return {}
    with open(log_path, errors="replace") as log:
        log.seek(offset)
        lines = [line.strip() for line in log if "Error" in line or "ERROR" in line or "Exception" in line]
    return dict(Counter(line[-160:] for line in lines).most_common(limit))


def one_run(args, host, port, app, proxy, route, n, run_index, clients=None, log_path=None,
            provider="fake", standin=None):
    ttft, gap = args.ttft_ms / 1000, args.chunk_ms / 1000
    ideal = ttft + (args.chunks - 1) * gap
    messages = [make_message(i, args.message_chars, seed=f"{route}-{n}-{run_index}") for i in range(n)]

    peak = {"rss": 0, "pss": 0, "samples": 0}

    def sample():
        pids = app.pids()
        peak["rss"] = max(peak["rss"], sum(rss_bytes(pid) for pid in pids))
        peak["samples"] += 1
        if peak["samples"] % 10 == 1:  # smaps_rollup costs more: every 10th sample
            peak["pss"] = max(peak["pss"], sum(pss_bytes(pid) for pid in pids))

    log_offset = log_path.stat().st_size if log_path and log_path.exists() else 0
    idle_rss = sum(rss_bytes(pid) for pid in app.pids())
    app_before = app.cpu()
    proxy_before = proxy.cpu() if proxy else {}
    standin_before = standin.cpu() if standin else {}
    busy_before, self_before = machine_busy_seconds(), self_cpu_seconds()
    overflows_before = listen_overflows()
    storm = None
    if args.resume_storm:
        results, storm, generator = asyncio.run(run_resume_storm(
            host, port, messages, args.chunks, args.timeout, clients, args.cut_after_pieces, sampler=sample))
    else:
        results, generator = asyncio.run(
            run_streams(host, port, route, messages, args.chunks, args.timeout, sampler=sample, clients=clients)
        )
    app_after = app.cpu()
    app_cpu = cpu_delta(app_before, app_after)
    per_process = sorted((app_after[pid] - app_before.get(pid, 0.0) for pid in app_after), reverse=True)
    proxy_cpu = cpu_delta(proxy_before, proxy.cpu()) if proxy else None
    standin_cpu = cpu_delta(standin_before, standin.cpu()) if standin else None
    busy = machine_busy_seconds() - busy_before
    overflows = listen_overflows() - overflows_before
    others = busy - app_cpu - (proxy_cpu or 0) - (standin_cpu or 0) - (self_cpu_seconds() - self_before)
    sample()

    first, first_byte, gaps, totals, errors, connects = [], [], [], [], Counter(), []
    openings, resumes, resume_opens = [], [], []
    pieces = 0
    for r in results:
        if r.get("opening") is not None:
            openings.append(r["opening"] * 1000)
        if r.get("resume") is not None:
            resumes.append(r["resume"] * 1000)
        if r.get("resume_open") is not None:
            resume_opens.append(r["resume_open"] * 1000)
        arrivals = r["arrivals"]
        pieces += len(arrivals)
        if arrivals:
            first.append((arrivals[0] - ttft) * 1000)
            gaps.extend((b - a - gap) * 1000 for a, b in zip(arrivals, arrivals[1:]))
        if r["first_byte"] is not None:
            first_byte.append(r["first_byte"] * 1000)
        if r["connect"] is not None:
            connects.append(r["connect"] * 1000)
        if r["complete"] and r["total"] is not None:
            totals.append(r["total"] / ideal)
        if r["error"]:
            errors[r["error"][:80]] += 1
        elif not r["exact"]:
            errors["not byte-exact"] += 1
    page = {}
    if route in PAGE_ROUTES:
        page = {
            # the POST's whole response (the new bubbles) / the GET's ": stream open", from the POST
            **spread("opening", openings, with_max=False),
            "id_errors": sum(r["id_errors"] for r in results),
            "unknown_events": sum(r["unknown_events"] for r in results),
        }
    if storm is not None:
        cut = [r for r in results if r.get("cut") is not None]
        page.update({
            "cut_reason": storm["cut_reason"],
            "cut_after_pieces": storm["cut_after_pieces"],
            "cut_at_seconds": storm["cut_at_seconds"],  # after the run started
            "cut": storm["cut"],  # streams that were open at the cut (the others had ended)
            "cut_exact": sum(r["exact"] for r in cut),
            "resumed": len(resumes),
            "resumed_by_end": sum(r["resume_kind"] == "end" for r in cut),
            "pieces_at_cut_min": min((r["pieces_at_cut"] for r in cut), default=None),
            "pieces_at_cut_max": max((r["pieces_at_cut"] for r in cut), default=None),
            "replayed_chars_p50": quantile([r["replayed_chars"] for r in cut if r["replayed_chars"] is not None], 0.5),
            **spread("resume", resumes),
            **spread("resume_open", resume_opens, with_max=False),  # reopen -> ": stream open"
            "storm_seconds": storm["storm_seconds"],
            "storm_run_seconds": storm["run_seconds"],
        })
    return {
        "provider": provider,
        "route": route,
        "n": n,
        "run": run_index,
        "complete": sum(r["complete"] for r in results),
        "exact": sum(r["exact"] for r in results),
        "pieces": pieces,
        "expected_pieces": sum(r["expected_pieces"] for r in results),
        **spread("first_piece_over_ttft", first),
        **spread("connect", connects),
        # machine-wide; a full accept queue makes a client retry its SYN after 1 s, 3 s...
        "listen_overflows": overflows,
        **spread("first_byte", first_byte, with_max=False),
        **spread("gap_over_model", gaps),
        **spread("total_ratio", totals, unit=""),
        "ideal_seconds": ideal,
        "server_idle_rss_mb": idle_rss / 2**20,
        "server_peak_rss_mb": peak["rss"] / 2**20,
        "server_peak_pss_mb": peak["pss"] / 2**20,
        "server_cpu_seconds": app_cpu,
        "server_cpu_us_per_piece": 1e6 * app_cpu / pieces if pieces else math.nan,
        "nginx_cpu_seconds": proxy_cpu,
        "nginx_cpu_us_per_piece": (1e6 * proxy_cpu / pieces) if (proxy_cpu is not None and pieces) else None,
        # the Vertex stand-in (grpc, rest): what playing the model cost, apart from the app
        "standin_cpu_seconds": standin_cpu,
        "standin_cpu_us_per_piece": (1e6 * standin_cpu / pieces) if (standin_cpu is not None and pieces) else None,
        "server_processes": len(app.pids()),
        # master and workers, busiest first: shows how evenly the workers shared the streams
        "server_cpu_by_process": [round(c, 2) for c in per_process],
        "server_log_errors": log_errors(log_path, log_offset),
        # everything else on the machine meanwhile (other people's tests...), in cores
        "machine_busy_cores": busy / generator["wall_seconds"],
        "other_processes_cores": max(0.0, others) / generator["wall_seconds"],
        "loadgen_cpu_share": generator["cpu_share"],
        "loadgen_loop_lag_p99_ms": generator["loop_lag_p99_ms"],
        "loadgen_loop_lag_max_ms": generator["loop_lag_max_ms"],
        "wall_seconds": generator["wall_seconds"],
        "errors": dict(errors.most_common(5)),
        **page,
    }


def median_of(runs):
    """Medians over runs, except the counts of complete/exact streams: the worst run."""
    summary = {"provider": runs[0]["provider"], "route": runs[0]["route"], "n": runs[0]["n"], "runs": len(runs)}
    keys = dict.fromkeys(key for r in runs for key, value in r.items()
                         if isinstance(value, (int, float)) and not isinstance(value, bool))
    for key in keys:
        if key in summary or key == "run":
            continue
        values = [r.get(key) for r in runs]
        values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
        if key in ("complete", "exact", "pieces", "cut_exact", "resumed"):
            summary[key] = min(r[key] for r in runs)
        elif key in ("id_errors", "unknown_events"):
            summary[key] = max(r[key] for r in runs)
        else:
            summary[key] = statistics.median(values) if values else math.nan
    if runs[0]["nginx_cpu_us_per_piece"] is not None:
        summary["nginx_cpu_us_per_piece"] = statistics.median(r["nginx_cpu_us_per_piece"] for r in runs)
    errors, logged = Counter(), Counter()
    for r in runs:
        errors.update(r["errors"])
        logged.update(r["server_log_errors"])
    summary["errors"] = dict(errors)
    summary["server_log_errors"] = dict(logged.most_common(5))
    if "cut_reason" in runs[0]:
        summary["cut_reasons"] = dict(Counter(r["cut_reason"] for r in runs))
    return summary


# --- profiling ------------------------------------------------------------------


def profile_run(args, host, port, app, route, n, tag, clients=None):
    """One extra run with py-spy attached to each worker; returns the top self-time functions."""
    out_dir = Path(args.profile_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    duration = int(args.ttft_ms / 1000 + args.chunks * args.chunk_ms / 1000 + 8)
    spies = []
    for pid in children(app.master):
        out = out_dir / f"{tag}-{route}-n{n}-pid{pid}.txt"
        spies.append((out, subprocess.Popen(
            [args.profile, "record", "--pid", str(pid), "--format", "raw", "--rate", str(args.profile_rate),
             *(["--native"] if args.profile_native else []), *(["--gil"] if args.profile_gil else []),
             "--duration", str(duration), "--nonblocking", "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )))
    time.sleep(1.5)  # py-spy attaches
    one_run(args, host, port, app, None, route, n, run_index=99, clients=clients)
    for _out, spy in spies:
        try:
            spy.wait(timeout=duration + 30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.wait()
    return [out for out, _ in spies if out.exists()]


def summarize_profile(files, top=25):
    """Self and inclusive sample counts per function from py-spy's folded stacks."""
    own, inclusive, total = Counter(), Counter(), 0
    for path in files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            count = int(count)
            frames = stack.split(";")
            total += count
            own[frames[-1]] += count
            for frame in set(frames):
                inclusive[frame] += count
    return total, own.most_common(top), inclusive.most_common(top * 2)


# --- output ----------------------------------------------------------------------


def fmt(value, digits=1):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


COLUMNS = [
    ("provider", 8), ("route", 10), ("N", 5), ("1st p50", 8), ("1st p99", 8),
    ("gap p50", 8), ("gap p99", 8), ("gap max", 8), ("tot p50", 8), ("tot p99", 8),
    ("complete", 10), ("exact", 10), ("RSS MB", 7), ("us/pc", 7), ("ngx us", 7), ("vtx us", 7),
    ("gen cpu", 8), ("gen lag", 8), ("others", 7),
]


def table(summaries):
    lines = ["  ".join(name.rjust(width) for name, width in COLUMNS)]
    for s in summaries:
        cells = [
            s["provider"], s["route"], str(s["n"]),
            fmt(s["first_piece_over_ttft_p50_ms"]), fmt(s["first_piece_over_ttft_p99_ms"]),
            fmt(s["gap_over_model_p50_ms"]), fmt(s["gap_over_model_p99_ms"]), fmt(s["gap_over_model_max_ms"]),
            fmt(s["total_ratio_p50"], 3), fmt(s["total_ratio_p99"], 3),
            f"{s['complete']}/{s['n']}", f"{s['exact']}/{s['n']}",
            fmt(s["server_peak_rss_mb"], 0), fmt(s["server_cpu_us_per_piece"], 0),
            fmt(s.get("nginx_cpu_us_per_piece"), 0), fmt(s.get("standin_cpu_us_per_piece"), 0),
            f"{100 * s['loadgen_cpu_share']:.0f}%", fmt(s["loadgen_loop_lag_max_ms"]),
            fmt(s["other_processes_cores"], 2),
        ]
        lines.append("  ".join(cell.rjust(width) for cell, (_, width) in zip(cells, COLUMNS)))
    return "\n".join(lines)


def openings_table(summaries):
    """The page's opening: when the POST's response (the new bubbles) and the
    event stream's first byte (`: stream open`) arrived, from the POST."""
    rows = [s for s in summaries if s["route"] in PAGE_ROUTES]
    if not rows:
        return ""
    lines = ["page openings, from the POST (ms):",
             "       route      N  POST p50  POST p99  SSE p50  SSE p99"]
    for s in rows:
        lines.append(f"  {s['route']:>10}  {s['n']:5d}  "
                     f"{fmt(s.get('opening_p50_ms')):>8}  {fmt(s.get('opening_p99_ms')):>8}  "
                     f"{fmt(s.get('first_byte_p50_ms')):>7}  {fmt(s.get('first_byte_p99_ms')):>7}")
    return "\n".join(lines)


STORM_COLUMNS = [
    ("N", 5), ("cut at s", 8), ("pcs@cut", 8), ("cut", 6), ("exact", 10), ("resumed", 10), ("by end", 6),
    ("res p50", 8), ("res p99", 8), ("res max", 8), ("open p99", 8), ("replay", 7), ("storm s", 8), ("run s", 6),
]


def storm_table(summaries):
    lines = ["  ".join(name.rjust(width) for name, width in STORM_COLUMNS)]
    for s in summaries:
        cells = [
            str(s["n"]), fmt(s.get("cut_at_seconds"), 2),
            f"{fmt(s.get('pieces_at_cut_min'), 0)}-{fmt(s.get('pieces_at_cut_max'), 0)}",
            fmt(s.get("cut"), 0), f"{s['exact']}/{s['n']}", f"{s.get('resumed', 0)}/{fmt(s.get('cut'), 0)}",
            fmt(s.get("resumed_by_end"), 0),
            fmt(s.get("resume_p50_ms")), fmt(s.get("resume_p99_ms")), fmt(s.get("resume_max_ms")),
            fmt(s.get("resume_open_p99_ms")),
            fmt(s.get("replayed_chars_p50"), 0), fmt(s.get("storm_seconds"), 2), fmt(s.get("storm_run_seconds"), 2),
        ]
        lines.append("  ".join(cell.rjust(width) for cell, (_, width) in zip(cells, STORM_COLUMNS)))
    return "\n".join(lines)


STORM_LEGEND = """\
Resume storm: once every stream had >= K pieces, every GET was closed at once and reopened at
once with Last-Event-ID. cut at s: seconds from the run's start; pcs@cut: fewest-most pieces a
stream had; cut: streams still open then; exact: complete, byte-exact streams, all N (text before
+ after the cut == message, every id matched: nothing twice), worst run; resumed: reopened streams
that got a piece or their end, worst run; by end: of those, how many got the end event first (the
answer had finished meanwhile); res: reopen -> first piece (or end) after it (ms), which includes
waiting for the model's next piece when nothing new was written meanwhile; open p99: reopen -> the
new stream's first byte (": stream open", ms); replay: chars in the first event after the reopen
(p50); storm s: cut -> end of the last reopened stream; run s: the whole run. Medians over runs."""


LEGEND = """\
1st: first piece - request start - TTFT (ms; page: from the POST); gap: gap between pieces - model gap (ms);
tot: stream total / ideal; complete, exact: worst run; RSS MB: peak sum of gunicorn RSS;
us/pc: gunicorn CPU (utime+stime) per piece delivered; ngx us: nginx CPU per piece;
vtx us: the Vertex stand-in's CPU per piece (providers grpc, rest: it plays the model, outside the app);
gen cpu / gen lag: load generator's share of one core and its worst event-loop lag (ms);
others: cores used meanwhile by every other process on the machine.
Medians over runs."""


def code_fingerprint():
    """A short hash of the app code and config measured (the tree may change between runs)."""
    import hashlib

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    files = sorted([*root.glob("app/**/*.py"), *root.glob("templates/*.html"), root / "gunicorn.conf.py",
                    root / "deploy/nginx.conf", root / "deploy/stack.py"])
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def machine():
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model or platform.machine()}, Python {platform.python_version()}"


# --- main ----------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[1, 100, 500, 1000], help="simultaneous streams")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--route", default="both",
                        choices=("api", "api-stored", "v1", "api-vs-v1", "page", "page-floor", "page-vs-floor", "both",
                                 "all"),
                        help="both: api and page; all: api, api-stored, page and page-floor (api-stored: a stored "
                             "conversation, the page's storage without its second request; page-floor: the page "
                             "client against bench/page_floor.py; page-vs-floor: page and page-floor; v1: the "
                             "OpenAI-compatible stream, /v1/chat/completions; api-vs-v1: api and v1)")
    parser.add_argument("--provider", nargs="+", choices=("fake", "grpc", "rest"), default=["fake"],
                        help="the model path(s) to measure: fake (the fake model in the app), grpc, rest (Gemini's "
                             "client on that transport against bench/vertex_standin.py)")
    parser.add_argument("--worker-class", choices=("gevent", "gthread", "gevent_pywsgi"), default="gevent")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0,
                        help="gthread threads per worker (default: enough for the largest N, at least 64)")
    parser.add_argument("--worker-connections", type=int, default=0, help="default: gunicorn.conf.py's")
    parser.add_argument("--direct", action="store_true", help="talk to gunicorn directly, no nginx")
    parser.add_argument("--metrics", action="store_true", help="CHAT_METRICS=1: Prometheus metrics on")
    parser.add_argument("--access-log", default=None,
                        help="GUNICORN_ACCESS_LOG (default: gunicorn.conf.py's, i.e. stdout into the log file)")
    parser.add_argument("--ttft-ms", type=int, default=300)
    parser.add_argument("--chunk-ms", type=int, default=50)
    parser.add_argument("--chunks", type=int, default=60)
    parser.add_argument("--message-chars", type=int, default=1200, help="per answer (ASCII letters and spaces)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per stream, seconds")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between runs")
    parser.add_argument("--client-nice", type=int, default=-10,
                        help="nice value of the load generator (not of the servers); the clients of a real "
                             "deployment do not share its CPU, so the generator gets its ~15%% of a core first")
    parser.add_argument("--wait-idle", type=float, default=0.0, metavar="SECONDS",
                        help="before each run, wait up to this long for other processes to go quiet")
    parser.add_argument("--idle-threshold", type=float, default=0.15, help="cores; see --wait-idle")
    parser.add_argument("--resume-storm", action="store_true",
                        help="page route: cut every event stream at once mid-answer, reopen each with Last-Event-ID")
    parser.add_argument("--cut-after-pieces", type=int, default=10, metavar="K",
                        help="--resume-storm: cut once every stream has at least K pieces (or has ended)")
    parser.add_argument("--json", metavar="PATH", help="write every run and the medians as JSON")
    parser.add_argument("--profile", metavar="PY_SPY", help="py-spy binary: one extra, uncounted, profiled run per N")
    parser.add_argument("--profile-dir", default="bench-profiles")
    parser.add_argument("--profile-rate", type=int, default=100)
    parser.add_argument("--profile-native", action="store_true", help="py-spy --native: C frames too")
    parser.add_argument("--profile-gil", action="store_true",
                        help="py-spy --gil: only threads holding the GIL, so waits (a lock, the GIL itself) are not counted")
    args = parser.parse_args(argv)
    if args.worker_class == "gthread" and not args.threads:
        args.threads = max(64, -(-max(args.n) // args.workers) + 100)
    if args.message_chars < args.chunks:
        parser.error("--message-chars must be at least --chunks")
    if args.resume_storm:
        if args.route not in ("page", "both", "all"):
            parser.error("--resume-storm is for the page route")
        args.route = "page"
        if not 1 <= args.cut_after_pieces < args.chunks:
            parser.error("--cut-after-pieces must be at least 1 and fewer than --chunks (mid-answer)")
    return args


def main(argv=None):
    args = parse_args(argv)
    args.api_keys = [secrets.token_urlsafe(32) for _ in range(max(*args.n, 4 * args.workers))]
    limit = raise_fd_limit(max(args.n) * 2 + 256)
    routes = {"both": ["api", "page"], "all": ["api", "api-stored", "page", "page-floor"],
              "page-vs-floor": ["page", "page-floor"], "api-vs-v1": ["api", "v1"]}.get(args.route, [args.route])
    config = (f"{args.worker_class}, {args.workers} workers"
              + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
              + (", direct to gunicorn" if args.direct else ", behind nginx"))
    fingerprint = code_fingerprint()
    print(f"machine: {machine()}; fd limit {limit}; app code {fingerprint}", flush=True)
    print(f"load generator nice {args.client_nice} (servers 0)", flush=True)
    print(f"stack: {config}; fake model TTFT {args.ttft_ms} ms, {args.chunks} pieces {args.chunk_ms} ms apart, "
          f"{args.message_chars} chars per answer; {args.runs} runs per N", flush=True)
    if args.provider != ["fake"]:
        print(f"providers: {' '.join(args.provider)} (grpc, rest: Gemini's client against bench/vertex_standin.py, "
              f"which answers like the fake model)", flush=True)
    if args.resume_storm:
        print(f"resume storm: every event stream cut once all have >= {args.cut_after_pieces} pieces, "
              f"then reopened with Last-Event-ID", flush=True)
    all_runs, summaries, profiles = [], [], {}
    started = time.monotonic()
    # page-floor is its own app, without a model provider: measured with fake only
    stacks = [(provider, route) for provider in args.provider for route in routes
              if provider == "fake" or route not in APP_MODULES]
    for provider, route in stacks:
        for n in args.n:
            with production_stack(args, APP_MODULES.get(route, "wsgi:app"), provider) as (
                    host, port, app, proxy, log, standin):
                # N clients: on the page one browser session (cookie + CSRF token)
                # each, opened before the runs as if N people had the page open;
                # on the API one key each
                warm = 4 * args.workers  # enough to reach every worker
                count = max(n, warm)
                clients = (asyncio.run(open_sessions(host, port, count)) if route in PAGE_ROUTES
                           else args.api_keys[:count])
                # warm up: imports, templates, DB connections, first greenlets/threads
                asyncio.run(run_streams(host, port, route, [make_message(i, 200, seed="warm") for i in range(warm)],
                                        args.chunks, args.timeout, clients=clients[:warm]))
                runs = []
                for run_index in range(args.runs):
                    time.sleep(args.pause)
                    wait_for_quiet(args, app, proxy)
                    result = one_run(args, host, port, app, proxy, route, n, run_index, clients, log,
                                     provider=provider, standin=standin)
                    runs.append(result)
                    print(f"  {provider} {route} N={n} run {run_index + 1}: {result['exact']}/{n} exact, "
                          f"1st p99 {fmt(result['first_piece_over_ttft_p99_ms'])} ms, "
                          f"total p50 x{fmt(result['total_ratio_p50'], 3)}, "
                          f"{fmt(result['server_cpu_us_per_piece'], 0)} us/piece, "
                          f"RSS {fmt(result['server_peak_rss_mb'], 0)} MB"
                          + (f", opening p99 {fmt(result['opening_p99_ms'])} ms" if route in PAGE_ROUTES else "")
                          + (f"; storm: cut at {fmt(result['cut_at_seconds'], 2)} s ({result['cut_reason']}), "
                             f"resumed {result['resumed']}/{result['cut']} ({result['cut_exact']} exact), "
                             f"resume p50 {fmt(result['resume_p50_ms'])} / p99 {fmt(result['resume_p99_ms'])} ms, "
                             f"storm {fmt(result['storm_seconds'], 2)} s" if args.resume_storm else "")
                          + (f", errors {result['errors']}" if result["errors"] else "")
                          + (f"; server log: {result['server_log_errors']}" if result["server_log_errors"] else ""),
                          flush=True)
                all_runs.extend(runs)
                summaries.append(median_of(runs))
                if args.profile:
                    time.sleep(args.pause)
                    tag = f"{args.worker_class}{'-direct' if args.direct else ''}"
                    key = f"{route}-{n}"
                    if provider != "fake":
                        tag, key = f"{tag}-{provider}", f"{provider}-{key}"
                    files = profile_run(args, host, port, app, route, n, tag, clients)
                    total, own, inclusive = summarize_profile(files)
                    profiles[key] = {"samples": total, "self": own, "inclusive": inclusive,
                                     "files": [str(f) for f in files]}
                    print(f"  profile {provider} {route} N={n}: {total} samples; top self time:")
                    for frame, count in own[:12]:
                        print(f"    {100 * count / max(total, 1):5.1f}%  {frame}")
    print()
    print(f"{config}; ideal total {summaries[0]['ideal_seconds']:.2f} s; "
          f"took {time.monotonic() - started:.0f} s")
    print(table(summaries))
    print(LEGEND)
    if openings_table(summaries):
        print(openings_table(summaries))
    if args.resume_storm:
        print()
        print(storm_table(summaries))
        print(STORM_LEGEND)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"machine": machine(), "config": config, "app_code": fingerprint,
             "args": {k: v for k, v in vars(args).items() if k != "api_keys"}, "summaries": summaries,
             "runs": all_runs, "profiles": profiles}, indent=1, default=str))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    sys.exit(main())
