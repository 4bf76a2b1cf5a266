"""A learner's `workshop check 0` with a live room that does not answer,
side by side with no room at all: `python -m workshop.course.live_room_bench`.

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

from workshop.checks.results import StepResult
from workshop.project import find_root
from workshop.room import reporting, send

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


def timed_check(learner: Path) -> tuple[float, float]:
    """Wall time, and the CPU time of the check and what it waited for."""
    cpu = _children_cpu()
    started = time.perf_counter()
    # -P: this checkout's workshop package, as installed, not the clone's
    done = subprocess.run([sys.executable, "-P", "-m", "workshop", "check", "0"],
                          cwd=learner, capture_output=True, text=True,
                          env={**os.environ, **LIMITS})  # fmt: skip
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"workshop check 0 failed in the clone:\n{done.stdout}")
    return took, _children_cpu() - cpu


def _children_cpu() -> float:
    """CPU seconds of the processes waited for (the detached sender is not)."""
    if sys.platform == "win32":
        return 0.0
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed_reports(learner: Path, port: int | None, times: int) -> list[float]:
    """What a report costs the command itself: `reporting.report` alone."""
    join_at(learner, port)
    results = [StepResult(0, ran=True, passed=1)]
    took = []
    for _ in range(times):
        started = time.perf_counter()
        reporting.report(learner, results, "check")
        took.append(time.perf_counter() - started)
    return took


def measure(learner: Path, runs: int) -> dict[str, list[tuple[float, float]]]:
    silent, listening = silent_port()
    ports = {"no room": None, "silent room": silent, "closed port": closed_port()}
    times: dict[str, list[tuple[float, float]]] = {way: [] for way in WAYS}
    try:
        timed_check(learner)  # warm the file cache once, not counted
        for run in range(runs):
            for way in WAYS[run % 3 :] + WAYS[: run % 3]:
                join_at(learner, ports[way])
                times[way].append(timed_check(learner))
        reports = {way: timed_reports(learner, ports[way], 30) for way in WAYS}
    finally:
        listening.close()
    return times, reports


def show(times: dict, reports: dict, runs: int) -> None:
    wall = {way: statistics.median(t for t, _ in times[way]) for way in WAYS}
    cpu = {way: statistics.median(c for _, c in times[way]) for way in WAYS}
    print(f"workshop check 0 in a learner's clone, {runs} runs each, in turns")
    for way in WAYS:
        walls = [t for t, _ in times[way]]
        spread = f"({min(walls):.2f}-{max(walls):.2f})"
        ratios = wall[way] / wall[WAYS[0]], cpu[way] / cpu[WAYS[0]]
        print(f"  {way:<12} wall median {wall[way]:.2f} s {spread} {ratios[0]:.2f}x"
              f"   CPU median {cpu[way]:.2f} s {ratios[1]:.2f}x")  # fmt: skip
    print("reporting.report() alone (what the check waits for), 30 calls each")
    for way in WAYS:
        ms = sorted(1000 * t for t in reports[way])
        print(f"  {way:<12} median {statistics.median(ms):.2f} ms, max {ms[-1]:.2f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.course.live_room_bench")
    parser.add_argument("--runs", type=int, default=7, help="checks per way (7)")
    runs = parser.parse_args(argv).runs
    with tempfile.TemporaryDirectory() as folder:
        learner = Path(folder) / "learner"
        subprocess.run(["git", "clone", "--quiet", "--shared", str(find_root()),
                        str(learner)], check=True)  # fmt: skip
        times, reports = measure(learner, runs)
        # the last senders (detached, the checks' own) may still write in the
        # clone: let them end (their timeout) before it is removed
        time.sleep(send.TIMEOUT + 1)
    show(times, reports, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
