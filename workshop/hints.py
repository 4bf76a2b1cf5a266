"""`workshop hint [N]`: the next hint of a step, then its solution.

Hints are read from the step's guide (`### Hint 1`, `### Hint 2`, ... under
`## Hints`). Each call shows one more; after the last hint comes the solution:
the step's change to app/ (the same as `workshop diff N`). How far a learner
got is kept per step in .workshop/hints.json at the checkout's root.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from workshop.project import STATE, Step, find_root, get_step, steps
from workshop.ui import WorkshopError, style

STATE_FILE = "hints.json"


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "step", nargs="?", help="the step (default: the step you are on)"
    )
    parser.add_argument(
        "--all", action="store_true", help="show every hint and the solution at once"
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="start the hints again from the first (of step N, or of every step)",
    )


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
    path = state_path(root)
    path.parent.mkdir(exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", "utf-8")
    os.replace(temporary, path)


def run(args: argparse.Namespace) -> int:
    root = find_root()
    if args.reset:
        return reset(root, args.step)
    step = get_step(root, args.step) if args.step is not None else current(root)
    hints = read_hints(step)
    if args.all:
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
        save(root, progress)
        more = "the next hint" if shown + 1 < len(hints) else "the solution"
        again = style(f"workshop hint {step.number}", "bold")
        print(f"\nStill stuck? Run {again} again for {more}.")
        return 0
    if not hints:
        print(f"Step {step.number}'s guide has no hints: here is its solution.\n")
    show_solution(root, step)
    progress[str(step.number)] = len(hints) + 1
    save(root, progress)
    reset_cmd = style(f"workshop hint --reset {step.number}", "bold")
    print(f"\nTo see the hints again from the first: {reset_cmd}")
    return 0


def current(root: Path) -> Step:
    """The step the learner is on: the first whose suite fails on app/."""
    from workshop.suites import run_suites

    all_steps = steps(root)
    if not all_steps:
        raise WorkshopError(f"no steps found: {root / 'checkpoints'} has no step-N")
    results = run_suites(
        root, root, [s.number for s in all_steps], stop_at_first_red=True
    )
    red = next((r.number for r in results if r.ran and not r.ok), all_steps[-1].number)
    return get_step(root, red)


def read_hints(step: Step) -> list[str]:
    from workshop.guide import Guide

    if not step.guide.is_file():
        return []
    return Guide.read(step.guide).hints()


def reset(root: Path, value: str | None) -> int:
    progress = load(root)
    if value is None:
        progress = {}
        what = "every step"
    else:
        step = get_step(root, value)
        progress.pop(str(step.number), None)
        what = f"step {step.number}"
    save(root, progress)
    print(f"Hints of {what} start again from hint 1.")
    return 0


def show_hint(step: Step, number: int, total: int, text: str) -> None:
    print(style(f"Step {step.number}, hint {number} of {total}", "bold", "cyan"))
    print()
    print(text.strip())


def show_solution(root: Path, step: Step) -> None:
    """The step's change to app/; for the first step, the guide's Solution."""
    print(style(f"Step {step.number}, solution", "bold", "cyan"))
    print()
    earlier = [s for s in steps(root) if s.number < step.number]
    if earlier:
        from workshop import diff

        sys.stdout.flush()
        diff.run(argparse.Namespace(step=str(step.number), stat=False, color="auto"))
        sys.stdout.flush()
        return
    from workshop.guide import Guide

    guide = Guide.read(step.guide) if step.guide.is_file() else None
    heading = guide.find("Solution", 2) if guide else None
    if heading is None:
        start = step.app.relative_to(root)
        print(f"Step {step.number} is the starting point: its app is {start}.")
    else:
        print(guide.section(heading))
