"""Which step the learner is on, remembered in the git-ignored .workshop/ folder.

One definition for every command: the step after the highest step whose
checks passed in this checkout (`record_done`), kept in .workshop/progress.json.
Where there is no record (a fresh clone, CI, another machine), it is the first
step whose checks fail on app/.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from workshop.checks.results import StepResult
from workshop.checks.suites import run_suites
from workshop.project import STATE, Step, all_steps

FILE = "progress.json"


def _path(root: Path) -> Path:
    return root / STATE / FILE


def done(root: Path) -> int | None:
    """The highest step recorded as passed, or None without a (readable) record."""
    try:
        value = json.loads(_path(root).read_text(encoding="utf-8")).get("done")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def record_done(root: Path, number: int | None) -> None:
    """Remember that the checks up to step `number` passed (None: forget)."""
    path = _path(root)
    try:
        if number is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"done": number}) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass  # progress is a convenience: a read-only checkout still checks


def recorded_step(root: Path) -> Step | None:
    """The step after the recorded one (the last step once all are done)."""
    number = done(root)
    if number is None:
        return None
    found = all_steps(root)
    later = [s for s in found if s.number > number]
    return later[0] if later else found[-1]


def current_step(root: Path) -> Step:
    """The step the learner is on: from the record, else the first red step."""
    recorded = recorded_step(root)
    if recorded is not None:
        return recorded
    found = all_steps(root)
    results = run_suites(root, root, [s.number for s in found], stop_from=0)
    red = next((r.number for r in results if r.ran and not r.ok), found[-1].number)
    return next(s for s in found if s.number == red)


def note(root: Path, results: list[StepResult]) -> None:
    """Record the highest step that passed in this run (the record only grows)."""
    green = [r.number for r in results if r.ok]
    if green and max(green) > (done(root) if done(root) is not None else -1):
        record_done(root, max(green))
