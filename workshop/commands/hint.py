"""`workshop hint [N]`: the next hint of a step, then its solution.

Hints are read from the step's guide (`### Hint 1`, `### Hint 2`, ... under
`## Hints`). Each call shows one more; after the last hint comes the solution:
the step's change to app/ (the same as `workshop diff N`). How far a learner
got is kept per step in .workshop/hints.json at the checkout's root.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from workshop.checks.progress import current_step
from workshop.commands.diff import diff
from workshop.course.guide import Guide
from workshop.errors import WorkshopError
from workshop.project import STATE, Step, get_step, steps
from workshop.ui import error_line, style

STATE_FILE = "hints.json"


def state_path(root: Path) -> Path:
    return root / STATE / STATE_FILE


def load(root: Path) -> dict[str, int]:
    """step number (as text) -> how many hints were shown."""
    try:
        data = json.loads(state_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # unreadable progress only costs a hint shown again
    if not isinstance(data, dict):
        return {}
    return {
        k: v
        for k, v in data.items()
        if isinstance(v, int) and not isinstance(v, bool) and v >= 0
    }


def save(root: Path, data: dict[str, int]) -> None:
    """Write the hint progress, or raise one clear WorkshopError."""
    path = state_path(root)
    try:
        path.parent.mkdir(exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", "utf-8")
        os.replace(temporary, path)
    except OSError as error:
        why = error.strerror or str(error)
        if path.parent.exists() and not path.parent.is_dir():
            why = f"{STATE} is a file, not a folder"
        where = f"{STATE}/{STATE_FILE}"
        raise WorkshopError(f"cannot save hint progress in {where}: {why}") from None


def remember(root: Path, data: dict[str, int]) -> None:
    """save(), where failing only costs showing a hint again: one line, no stop."""
    try:
        save(root, data)
    except WorkshopError as error:
        error_line(f"note: {error}")


def hint(root: Path, step_name: str | None = None, *, every: bool = False) -> int:
    step = get_step(root, step_name) if step_name is not None else current_step(root)
    hints = read_hints(step)
    if every:
        for number, text in enumerate(hints, start=1):
            show_hint(step, number, len(hints), text)
            print()
        show_solution(root, step)
        return 0
    progress = load(root)
    shown = progress.get(str(step.number), 0)
    if shown < len(hints):
        show_hint(step, shown + 1, len(hints), hints[shown])
        progress[str(step.number)] = shown + 1
        remember(root, progress)
        more = "the next hint" if shown + 1 < len(hints) else "the solution"
        again = style(f"workshop hint {step.number}", "bold")
        print(f"\nStill stuck? Run {again} again for {more}.")
        return 0
    if not hints:
        print(f"Step {step.number}'s guide has no hints: here is its solution.\n")
    show_solution(root, step)
    progress[str(step.number)] = len(hints) + 1
    remember(root, progress)
    reset_cmd = style(f"workshop hint --reset {step.number}", "bold")
    print(f"\nTo see the hints again from the first: {reset_cmd}")
    return 0


def reset(root: Path, step_name: str | None = None) -> int:
    progress = load(root)
    if step_name is None:
        progress = {}
        what = "every step"
    else:
        step = get_step(root, step_name)
        progress.pop(str(step.number), None)
        what = f"step {step.number}"
    save(root, progress)
    print(f"Hints of {what} start again from hint 1.")
    return 0


def read_hints(step: Step) -> list[str]:
    if not step.guide.is_file():
        return []
    return Guide.read(step.guide).hints()


def show_hint(step: Step, number: int, total: int, text: str) -> None:
    print(style(f"Step {step.number}, hint {number} of {total}", "bold", "cyan"))
    print()
    print(text.strip())


def show_solution(root: Path, step: Step) -> None:
    """The step's change to app/; for the first step, the guide's Solution."""
    print(style(f"Step {step.number}, solution", "bold", "cyan"))
    print()
    if any(s.number < step.number for s in steps(root)):
        sys.stdout.flush()
        diff(root, str(step.number))
        sys.stdout.flush()
        return
    guide = Guide.read(step.guide) if step.guide.is_file() else None
    heading = guide.find("Solution", 2) if guide else None
    if guide is None or heading is None:
        start = step.app.relative_to(root)
        print(f"Step {step.number} is the starting point: its app is {start}.")
    else:
        print(guide.section(heading))
