"""`workshop status`: every step with pass/fail for app/, and the step you are on."""

from __future__ import annotations

from pathlib import Path

from workshop import progress
from workshop.errors import WorkshopError
from workshop.project import APP, Step, all_steps
from workshop.report import headline, root_cause, step_line
from workshop.results import StepResult
from workshop.suites import run_suites
from workshop.ui import SKIP, ok, style

NOT_CHECKED = f"({SKIP} not checked yet: 'workshop status --all' checks them)"


def status(root: Path, *, every: bool = False) -> int:
    """The progress list. Steps after the one you are on are not run unless
    `every`: each builds on the one before, and red suites can be slow."""
    found = all_steps(root)
    if not (root / APP).is_dir():
        raise WorkshopError(f"no {APP}/ folder in {root}")
    recorded = progress.recorded_step(root)
    numbers = [s.number for s in found]
    stop_from = None if every else (recorded.number if recorded else 0)
    ran = run_suites(root, root, numbers, stop_from=stop_from)
    progress.note(root, ran)
    results = {r.number: r for r in ran if r.ran}
    current = _current(progress.recorded_step(root), results)
    print("Your progress (app/):\n")
    print_list(found, results, current)
    print()
    if current is None:
        print(ok("Every step passes: you have finished the workshop."))
        return 0
    guide = next(s for s in found if s.number == current).guide.relative_to(root)
    print(f"You are on step {current}: read {guide}, then run: workshop check")
    if len(results) < len(found):
        print(style(NOT_CHECKED, "dim"))
    return 0


def _current(recorded: Step | None, results: dict[int, StepResult]) -> int | None:
    """The recorded step, else the first red one; None when all are done."""
    if recorded is None:
        return next((n for n, r in sorted(results.items()) if not r.ok), None)
    mine = results.get(recorded.number)
    return (
        None
        if mine is not None and mine.ok and not _later(recorded)
        else (recorded.number)
    )


def _later(step: Step) -> bool:
    return any(s.number > step.number for s in all_steps(step.root))


def print_list(
    found: list[Step], results: dict[int, StepResult], current: int | None
) -> None:
    """One line a step; under a red one its first problem, named once: the
    step you are on tells it, the others say whose problem they share."""
    shown: dict[str, int] = {}
    mine = results.get(current) if current is not None else None
    if mine is not None and root_cause(mine) is not None:
        shown[root_cause(mine)] = mine.number
    for step in found:
        result = results.get(step.number)
        if result is None:
            print(f"  {style(SKIP, 'dim')} {step.label}")
            continue
        print(step_line(step, result, here=step.number == current))
        cause = root_cause(result)
        if not result.ok and cause is not None:
            first = shown.setdefault(cause, step.number)
            same = f"the same error as step {first}"
            print(
                style(
                    f"      {headline(result) if first == step.number else same}", "dim"
                )
            )
