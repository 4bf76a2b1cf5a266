"""`workshop status`: every step with pass/fail for app/, and the step you are on."""

from __future__ import annotations

from pathlib import Path

from workshop.errors import WorkshopError
from workshop.project import APP, all_steps, get_step
from workshop.report import print_step
from workshop.suites import run_suites
from workshop.ui import SKIP, ok, style


def status(root: Path, *, every: bool = False) -> int:
    """The progress list. Steps after the first red one are not run unless
    `every`: each builds on the one before, and red suites can be slow."""
    found = all_steps(root)
    if not (root / APP).is_dir():
        raise WorkshopError(f"no {APP}/ folder in {root}")
    numbers = [s.number for s in found]
    results = run_suites(root, root, numbers, stop_at_first_red=not every)
    current = next((r.number for r in results if not r.ok), None)
    print("Your progress (app/):\n")
    for step, result in zip(found, results, strict=True):
        print_step(step, result, details=False, here=result.number == current)
    print()
    if current is None:
        print(ok("Every step passes: you have finished the workshop."))
        return 0
    guide = get_step(root, current).guide.relative_to(root)
    print(f"You are on step {current}: read {guide}, then run: workshop check")
    if not all(r.ran for r in results):
        print(
            style(
                f"({SKIP} not checked yet: 'workshop status --all' checks them)", "dim"
            )
        )
    return 0
