"""`workshop bench`: measure that the response does not wait for the email.

Starts checkpoints (and a small demo app) under real uvicorn servers in
subprocesses on free loopback ports, drives them with concurrent requests and
prints p50/p95/p99 latency, throughput and the ratios the workshop claims.
`--loop` measures the learner's loop instead: check, verify, watch; `--room`
the instructor's `workshop room` over generated learner repositories.

Modules: stats (percentiles, claims), server (uvicorn subprocess), load (the
async httpx client), scenarios (what is measured), report (text and JSON),
demo_app (the trap and the ceiling). The benchmarks of the tool itself live
with the author tools: workshop/course/loop_bench.py (`--loop`),
workshop/course/room_bench.py (`--room`), workshop/course/overhead_bench.py
(`--scenario overhead`, the timeline's cost).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workshop.errors import WorkshopError

SCENARIO_NAMES = ("response", "trap", "ceiling", "overhead", "queue")
# The lesson's three by default. overhead measures the tool (the timeline's
# cost: workshop/course/overhead_bench.py), queue needs a Redis server and
# takes a minute: each only when asked for.
DEFAULT_SCENARIOS = ("response", "trap", "ceiling")
ALIASES = {
    "a": "response",
    "b": "trap",
    "c": "ceiling",
    "d": "overhead",
    "e": "queue",
}


def add_arguments(parser: argparse.ArgumentParser, name: str = "bench") -> None:
    # Values are read as text and checked in `settings`, so a bad one gives a
    # single clear line (argparse would print its usage block as well).
    parser.description = (
        "Start checkpoints under real uvicorn servers on free loopback ports, "
        "send concurrent requests, and print latency percentiles, throughput "
        "and the ratios the workshop claims."
    )
    add = parser.add_argument
    add("--requests", default="200", metavar="N", help="requests per run (200)")
    add("--concurrency", default="10", metavar="N", help="requests in flight (10)")
    add("--delay", default="1", metavar="S", help="MAIL_DELAY in seconds (1)")
    add(
        "--time-limit",
        default="5",
        metavar="S",
        help="stop starting requests after S seconds of a run (5)",
    )
    add(
        "--rate",
        default="auto",
        metavar="R",
        help="response: requests/s (auto: 20 / delay, half the 40-thread ceiling; "
        "0: unpaced)",
    )
    add(
        "--scenario",
        action="append",
        metavar="NAME",
        help="response (a), trap (b), ceiling (c), overhead (d, the timeline's "
        "cost, for authors) or queue (e, step 8 against step 1; needs Redis); "
        "repeat for several (default: a, b and c)",
    )
    add(
        "--slots",
        default="80",
        metavar="N",
        help="queue: the worker's threads, against the web process's 40 (80)",
    )
    add("--json", action="store_true", help="machine-readable output")
    add("--strict", action="store_true", help="exit 1 when a claim does not hold")
    add(
        "--loop",
        action="store_true",
        help="measure the learner's loop (check, verify, watch) instead",
    )
    add("--runs", default="5", metavar="N", help="--loop: runs per command (5)")
    add(
        "--step",
        default="1",
        metavar="N",
        help="--loop: the step to check (1); all: every step green and red, "
        "watch and Ctrl-C; red: every step's red run only",
    )
    add(
        "--room",
        action="store_true",
        help="measure `workshop room` over generated learner repositories instead",
    )
    add("--repos", default="30", metavar="N", help="--room: repositories (30)")
    add("--jobs", default="0", metavar="N", help="--room: at once (0: the default)")


@dataclass(frozen=True)
class Settings:
    requests: int
    concurrency: int
    delay: float
    time_limit: float
    rate: float | None  # None: auto
    scenarios: tuple[str, ...]
    json: bool
    strict: bool
    loop: bool
    runs: int
    step: str
    slots: int = 80  # queue: the worker's threads
    room: bool = False
    repos: int = 30
    jobs: int = 0  # 0: workshop room's default


def _number(
    option: str, text: str, kind: Callable[[str], Any], low: float, high: float
) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or not low <= value <= high:
        what = "a whole number" if kind is int else "a number"
        raise WorkshopError(
            f"{option} must be {what} from {low:g} to {high:g}, not {text!r}"
        )
    return value


def settings(args: argparse.Namespace) -> Settings:
    """The checked options, or a WorkshopError naming the bad one."""
    names = []
    for raw in args.scenario or DEFAULT_SCENARIOS:
        for part in raw.split(","):
            name = ALIASES.get(part.strip().lower(), part.strip().lower())
            if name not in SCENARIO_NAMES:
                valid = ", ".join(f"{n} ({k})" for k, n in ALIASES.items())
                raise WorkshopError(f"unknown scenario {part!r}: valid are {valid}")
            if name not in names:
                names.append(name)
    return Settings(
        requests=_number("--requests", args.requests, int, 1, 100_000),
        concurrency=_number("--concurrency", args.concurrency, int, 1, 1000),
        delay=_number("--delay", args.delay, float, 0.01, 60),
        time_limit=_number("--time-limit", args.time_limit, float, 0.1, 600),
        rate=None
        if args.rate == "auto"
        else _number("--rate", args.rate, float, 0, 100_000),
        scenarios=tuple(n for n in SCENARIO_NAMES if n in names),
        json=args.json,
        strict=args.strict,
        loop=args.loop,
        runs=_number("--runs", args.runs, int, 1, 50),
        step=args.step,
        slots=_number("--slots", args.slots, int, 1, 1000),
        room=args.room,
        repos=_number("--repos", args.repos, int, 1, 500),
        jobs=_number("--jobs", args.jobs, int, 0, 256),
    )
