"""Run the chosen scenarios one after another and print one report."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

from workshop.bench import report
from workshop.bench.scenarios import (
    Options,
    Result,
    ceiling,
    response,
    trap,
)
from workshop.errors import WorkshopError
from workshop.project import find_root, get_step

if TYPE_CHECKING:
    from workshop.bench import Settings


async def run_scenarios(settings: Settings, options: Options) -> list[Result]:
    root = find_root()
    # Check every checkpoint needed before measuring anything.
    step0, step1, step2 = (get_step(root, n).checkpoint for n in (0, 1, 2))
    step8 = get_step(root, 8).checkpoint if "queue" in settings.scenarios else None
    results = []
    for name in settings.scenarios:
        if not settings.json:
            print(f"measuring {name} ...", file=sys.stderr, flush=True)
        before = report.load_average()
        if name == "response":
            results.append(await response(options, step0, step1))
        elif name == "trap":
            results.append(await trap(options, step2))
        elif name == "ceiling":
            results.append(await ceiling(options, step2))
        elif name == "queue":
            from workshop.bench.queue import queue

            assert step8 is not None
            results.append(await queue(options, step1, step8))
        else:  # the tool's own cost: an author's measure, asked for by name
            from workshop.course.overhead_bench import overhead

            results.append(await overhead(options, step1))
        results[-1].notes.append(load_note(before, report.load_average()))
    return results


def load_note(before: list[float], after: list[float]) -> str:
    """The machine's load beside the scenario's figures (1, 5, 15 minutes)."""
    if not before or not after:
        return "load average: unknown on this system"
    return (
        f"load average {', '.join(map(str, before))} before, "
        f"{', '.join(map(str, after))} after (1, 5, 15 min)"
    )


def main(settings: Settings) -> int:
    options = Options(
        requests=settings.requests,
        concurrency=settings.concurrency,
        delay=settings.delay,
        time_limit=settings.time_limit,
        rate=settings.rate,
        slots=settings.slots,
    )
    try:
        results = asyncio.run(run_scenarios(settings, options))
    except RuntimeError as error:  # e.g. no request succeeded
        raise WorkshopError(str(error)) from None
    info = report.machine()
    if settings.json:
        print(report.as_json(options, results, info))
    else:
        print(report.text(options, results, info))
    holds = all(c.holds for r in results for c in r.claims)
    return 1 if settings.strict and not holds else 0
