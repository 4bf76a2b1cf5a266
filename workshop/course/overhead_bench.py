"""`workshop bench --scenario overhead`: what the tool itself costs a request.

The timeline that `workshop serve` wraps around the app records every
request, task and email; this measures what that costs step 1's POST
/subscribers, with the timeline's page open, against the app alone. It is the
authors' measure of the tool (with loop_bench.py and room_bench.py), not a
question the lesson asks, so the learner's `workshop bench` runs it only
when asked for; it drives the same servers and load as the learner's
scenarios (workshop/bench/scenarios.py).
"""

from __future__ import annotations

from pathlib import Path

from workshop.bench.scenarios import (
    PAGE_POLL,
    Fact,
    Options,
    Result,
    checkpoint_server,
    post_subscribers,
)
from workshop.bench.stats import Claim, at_most, median, ratio

TIMELINE_APP = "workshop.timeline.served:app"  # what `workshop serve` runs
TIMELINE_OVERHEAD = 1.2  # timeline on: p50 <= 1.2 x off (median of the runs)
OVERHEAD_RUNS = 3


async def overhead(options: Options, step1: Path) -> Result:
    d = options.delay
    result = Result(
        "overhead",
        "What the timeline costs a request",
        f"POST /subscribers on checkpoint step-1 (MAIL_DELAY={d:g} s, paced as in "
        f"a) on two servers at the same time: the app alone, and the app as "
        f"`workshop serve` runs it, inside the timeline's wrapper "
        f"({TIMELINE_APP}: every request, task and email recorded), with its "
        f"page open (timeline.json fetched every {PAGE_POLL:g} s, as the page "
        f"does). "
        f"{OVERHEAD_RUNS} runs, each on fresh servers; the claim takes the median "
        f"of the runs' p50 ratios.",
    )
    ratios, p50s = [], {"off": [], "on": []}
    for run in range(1, OVERHEAD_RUNS + 1):
        on_label = f"run {run}: timeline on"
        off, on = await post_subscribers(
            options,
            {
                f"run {run}: timeline off": checkpoint_server(step1, d),
                on_label: checkpoint_server(step1, d, TIMELINE_APP),
            },
            watched=on_label,
        )
        result.runs += [off, on]
        ratios.append(ratio(on.p50, off.p50))
        p50s["off"].append(off.p50)
        p50s["on"].append(on.p50)
    for name, values in p50s.items():
        result.facts.append(
            Fact(f"timeline {name}: median of the p50s", median(values) * 1000, "ms")
        )
    result.notes.append(
        "p50 on / off, run by run: " + ", ".join(f"{r:.2f}x" for r in ratios)
    )
    result.claims.append(overhead_claim(ratios))
    return result


def overhead_claim(ratios: list[float]) -> Claim:
    return at_most(
        "timeline on: p50 / timeline off p50 (median of the runs)",
        median(ratios),
        TIMELINE_OVERHEAD,
    )
