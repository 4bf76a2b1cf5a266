"""Which step the learner is on: the first step whose checks fail on app/."""

from __future__ import annotations

from pathlib import Path

from workshop.project import Step, all_steps, get_step
from workshop.suites import run_suites


def current_step(root: Path) -> Step:
    """The first red step of app/ (the last step when every one passes)."""
    found = all_steps(root)
    results = run_suites(root, root, [s.number for s in found], stop_at_first_red=True)
    red = next((r.number for r in results if r.ran and not r.ok), found[-1].number)
    return get_step(root, red)
