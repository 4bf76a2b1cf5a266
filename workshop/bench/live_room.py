"""A learner's `workshop check 0` with a live room that does not answer,
side by side with no room at all: `python -m workshop.bench.live_room`.

Three ways, in turns (the order rotates each run, so a busy moment of the
machine falls on each alike), in one clone of this checkout:
- no room: the clone never joined one;
- silent room: joined to a port that accepts connections and never replies;
- closed port: joined to a port nobody listens on.
It prints each one's median wall time and its ratio to no room. A report is
sent by a detached process (workshop/room/reporting.py), so the two rooms
should cost no more than starting it.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from workshop.project import find_root
from workshop.room import reporting

WAYS = ("no room", "silent room", "closed port")
# a busy machine must not turn a run red: the time is what is measured
LIMITS = {"WORKSHOP_TEST_LIMIT": "60", "WORKSHOP_IMPORT_LIMIT": "60"}


def silent_port() -> tuple[int, socket.socket]:
    """A port that accepts every connection and never says a word."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(64)
    held: list[socket.socket] = []

    def accept_forever() -> None:
        while True:
            try:
                held.append(listening.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept_forever, daemon=True).start()
    return listening.getsockname()[1], listening


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def join_at(learner: Path, port: int | None) -> None:
    reporting.forget(learner)
    if port is not None:
        code = "bench-room-code"
        base = f"http://127.0.0.1:{port}"
        reporting.save(learner, reporting.Joined(base, code, "b" * 12, "k" * 12, "B"))


def timed_check(learner: Path) -> float:
    started = time.perf_counter()
    # -P: this checkout's workshop package, as installed, not the clone's
    done = subprocess.run([sys.executable, "-P", "-m", "workshop", "check", "0"],
                          cwd=learner, capture_output=True, text=True,
                          env={**os.environ, **LIMITS})  # fmt: skip
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"workshop check 0 failed in the clone:\n{done.stdout}")
    return took


def measure(learner: Path, runs: int) -> dict[str, list[float]]:
    silent, listening = silent_port()
    ports = {"no room": None, "silent room": silent, "closed port": closed_port()}
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    try:
        timed_check(learner)  # warm the file cache once, not counted
        for run in range(runs):
            for way in WAYS[run % 3 :] + WAYS[: run % 3]:
                join_at(learner, ports[way])
                times[way].append(timed_check(learner))
    finally:
        listening.close()
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.bench.live_room")
    parser.add_argument("--runs", type=int, default=7, help="checks per way (7)")
    runs = parser.parse_args(argv).runs
    with tempfile.TemporaryDirectory() as folder:
        learner = Path(folder) / "learner"
        subprocess.run(["git", "clone", "--quiet", "--shared", str(find_root()),
                        str(learner)], check=True)  # fmt: skip
        times = measure(learner, runs)
    base = statistics.median(times["no room"])
    print(f"workshop check 0 in a learner's clone, {runs} runs each, in turns")
    for way in WAYS:
        median = statistics.median(times[way])
        spread = f"{min(times[way]):.2f}-{max(times[way]):.2f} s"
        print(f"  {way:<12} median {median:.2f} s ({spread})  {median / base:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
