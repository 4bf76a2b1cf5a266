"""The bench's output: a table per scenario for people, or JSON for machines."""

from __future__ import annotations

import json
import math
import os
import platform
import textwrap
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from workshop.bench.scenarios import Fact, Options, Result
from workshop.bench.stats import Claim, Summary
from workshop.ui import bad, ok, style

WIDTH = 88
LETTERS = {"response": "a", "trap": "b", "ceiling": "c", "overhead": "d", "queue": "e"}


def machine() -> dict[str, Any]:
    """Where the numbers come from: cores, CPU, Python, and the load right now."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu or platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "load_average": load_average(),
    }


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages; none where the system has none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (OSError, AttributeError):  # Windows has no getloadavg
        return []


def ms(seconds: float) -> str:
    if math.isinf(seconds):
        return "inf"
    return f"{seconds * 1000:.1f}"


def times(x: float) -> str:
    if math.isinf(x):
        return "inf"
    return f"{x:.2f}x" if x < 100 else f"{x:.0f}x"


def claim_line(claim: Claim) -> str:
    mark = ok("HOLDS") if claim.holds else bad("DOES NOT HOLD")
    if claim.unit == "x":
        measured, limit = times(claim.measured), times(claim.limit)
    else:
        measured = f"{claim.measured:.3g} {claim.unit}"
        limit = f"{claim.limit:.3g} {claim.unit}"
    return f"  {claim.text} = {measured}  (claim {claim.op} {limit}): {mark}"


def fact_line(fact: Fact) -> str:
    if fact.unit == "x":
        value = times(fact.value)
    else:
        value = f"{fact.value:.1f} {fact.unit}" if fact.unit else f"{fact.value:g}"
    return f"  {fact.label}: {value}"


def runs_table(runs: Sequence[Summary]) -> list[str]:
    label_width = max([len("run"), *(len(r.label) for r in runs)])
    head = (
        f"  {'run':<{label_width}}  {'n':>5} {'err':>4} "
        f"{'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9} {'req/s':>8}"
    )
    lines = [style(head, "dim")]
    for r in runs:
        lines.append(
            f"  {r.label:<{label_width}}  {r.count:>5} {r.errors:>4} "
            f"{ms(r.p50):>9} {ms(r.p95):>9} {ms(r.p99):>9} {r.throughput:>8.1f}"
        )
    return lines


def header(options: Options, info: dict[str, Any]) -> list[str]:
    load = ", ".join(str(x) for x in info["load_average"]) or "unknown"
    return [
        style("workshop bench", "bold")
        + f" — {options.requests} requests per run, concurrency "
        f"{options.concurrency}, mail delay {options.delay:g} s, at most "
        f"{options.time_limit:g} s per run, loopback only",
        f"machine: {info['cores']} cores, {info['cpu']}, Python {info['python']}, "
        f"load average {load}",
        "latency: from sending a request to its whole response, on keep-alive "
        "connections;",
        "a request waiting for a free slot (--concurrency) is not sent, so not "
        "timed, yet.",
    ]


def text(options: Options, results: Sequence[Result], info: dict[str, Any]) -> str:
    lines = header(options, info)
    for result in results:
        letter = LETTERS.get(result.key, "-")
        lines += ["", style(f"{letter}) {result.title}", "bold")]
        lines += textwrap.wrap(
            result.measures, WIDTH, initial_indent="  ", subsequent_indent="  "
        )
        lines += runs_table(result.runs)
        lines += [fact_line(fact) for fact in result.facts]
        lines += [claim_line(c) for c in result.claims]
        lines += [f"  note: {note}" for note in result.notes]
    held = sum(c.holds for r in results for c in r.claims)
    total = sum(len(r.claims) for r in results)
    lines += ["", f"{held} of {total} claims hold on this machine."]
    return "\n".join(lines)


def as_json(options: Options, results: Sequence[Result], info: dict[str, Any]) -> str:
    def claim(c: Claim) -> dict[str, Any]:
        return {**asdict(c), "holds": c.holds}

    data = {
        "options": {**asdict(options), "response_rate": options.response_rate},
        "machine": info,
        "scenarios": [
            {
                "name": r.key,
                "title": r.title,
                "measures": r.measures,
                "runs": [asdict(s) for s in r.runs],
                "facts": [asdict(f) for f in r.facts],
                "claims": [claim(c) for c in r.claims],
                "notes": r.notes,
            }
            for r in results
        ],
    }
    return json.dumps(_finite(data), indent=2, allow_nan=False)


def _finite(value: Any) -> Any:
    """JSON has no infinity: a ratio to a zero reference becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
