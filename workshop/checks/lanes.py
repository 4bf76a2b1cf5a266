"""Which suites run side by side: the step in focus first, in a child of its own.

`workshop check N` runs suites 0..N. On a machine with two cores or more they
run in two children at once (workshop/checks/suites.py): the first starts
with step N, the step the learner works on, and takes the later of the
earlier steps; the second takes the earliest steps. The lanes are balanced by
the number of tests in each suite, a test of a crash tier (real processes
killed for real: seconds each) counted as `CRASH_TEST` of them. So a check
takes about half as long, and a step that waits out a time limit (a hang in
app/) holds up only its own lane: the other steps' results still come, each
on its own clock.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import Path

_TEST = re.compile(r"^(?:async\s+)?def test_", re.MULTILINE)
PER_SUITE = 2  # a suite's own cost (its module, its fixtures) in tests
# a crash-tier test in fast tests: step 9's took 47 s for 10 tests (2 cores),
# a fast one 0.05 to 0.2 s
CRASH_TEST = 30


def weight(root: Path, number: int, crash: bool = False) -> int:
    """The cost of step `number`'s suite: its tests, plus its own start;
    with `crash`, its crash tier's tests too."""
    cost = PER_SUITE + _tests(root / "tests" / "steps" / f"test_step_{number}.py")
    if crash:
        tier = root / "tests" / "steps" / f"test_step_{number}_crash.py"
        cost += CRASH_TEST * _tests(tier)
    return cost


def _tests(path: Path) -> int:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 0
    return len(_TEST.findall(text))


def cores() -> int:
    counted = os.process_cpu_count() if hasattr(os, "process_cpu_count") else None
    if counted is None and hasattr(os, "sched_getaffinity"):
        counted = len(os.sched_getaffinity(0))
    return counted or os.cpu_count() or 1


def split(
    root: Path, numbers: list[int], crash: Collection[int] = ()
) -> list[list[int]]:
    """[[focus, later earlier steps...], [earliest steps...]], or [numbers]
    alone when there is one step or one core. The steps in `crash` run their
    crash tier too."""
    if len(numbers) < 2 or cores() < 2:
        return [list(numbers)]

    def cost(number: int) -> int:
        return weight(root, number, number in crash)

    *earlier, focus = numbers
    first, second = [focus], []
    heavy, light = cost(focus), 0
    front, back = 0, len(earlier) - 1
    while front <= back:
        if light <= heavy:
            second.append(earlier[front])
            light += cost(earlier[front])
            front += 1
        else:
            first.insert(1, earlier[back])
            heavy += cost(earlier[back])
            back -= 1
    return [first, second]
