"""CPU per message of the rate limits with the shipped defaults (all on),
on the `machine` store: admitting a message, then holding and releasing its
stream slot, for 1,000 clients from 250 addresses, five runs.

    .venv/bin/python bench/rate_limits.py
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.config import Config  # noqa: E402
from app.web.rate_limits import Limiter, Limits, machine_engine  # noqa: E402

MESSAGES, RUNS = 1000, 5


def main():
    limiter = Limiter(Limits.from_config(Config()), machine_engine(Path(tempfile.mkdtemp()) / "rate-limits.sqlite3"))
    cpu = []
    for run in range(RUNS):
        start = time.process_time()
        for i in range(MESSAGES):
            slot = limiter.admit(f"owner-{run}-{i}", f"10.0.{run}.{i % 250}")
            slot.hand_to(i)
            limiter.release_answer(i)
        cpu.append((time.process_time() - start) / MESSAGES * 1e6)
    print(f"CPU per message (admit, hand the slot on, release): median {statistics.median(cpu):.0f} µs "
          f"(runs: {', '.join(f'{value:.0f}' for value in cpu)})")


if __name__ == "__main__":
    main()
