"""`workshop status`: every step with pass/fail for app/, and the step you are on.

`--json` prints the same as data (for scripts and dashboards); `--summary FILE`
also appends it as a Markdown table, for a CI job summary
($GITHUB_STEP_SUMMARY), so one run of the suites feeds the log and the page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workshop import __version__
from workshop.checks import progress
from workshop.checks.results import StepResult
from workshop.checks.suites import run_suites
from workshop.checks.summary import (
    first_problem,
    headline,
    root_cause,
    state,
    step_line,
)
from workshop.course import source_record
from workshop.errors import WorkshopError
from workshop.project import APP, Step, all_steps
from workshop.room import reporting
from workshop.ui import SKIP, ok, style

NOT_CHECKED = f"({SKIP} not checked yet: 'workshop status --all' checks them)"


def status(
    root: Path,
    *,
    every: bool = False,
    as_json: bool = False,
    summary: Path | None = None,
) -> int:
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
    reporting.report(root, ran, "status")
    results = {r.number: r for r in ran if r.ran}
    current = _current(progress.recorded_step(root), results)
    if summary is not None:
        _append(summary, markdown(root, found, results, current))
    if as_json:
        print(json.dumps(as_data(root, found, results, current), indent=2))
        return 0
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


def as_data(
    root: Path, found: list[Step], results: dict[int, StepResult], current: int | None
) -> dict[str, Any]:
    """Progress as data: what `status --json` prints."""
    record = source_record.read_record(root)
    return {
        "tool": {"name": "workshop", "version": __version__},
        "course": {
            "version": source_record.version(root),
            "source": source_record.declared_source(root) or (record and record.source),
            "commit": record.commit if record else None,
        },
        "current_step": current,
        "finished": current is None,
        "steps": [_step_data(s, results.get(s.number)) for s in found],
    }


def _step_data(step: Step, result: StepResult | None) -> dict[str, Any]:
    return {
        "number": step.number,
        "title": step.label,
        "state": state(result),
        "passed": result.passed if result else 0,
        "failed": len(result.failures) if result else 0,
        "first_failure": first_problem(result) if result and not result.ok else None,
    }


def markdown(
    root: Path, found: list[Step], results: dict[int, StepResult], current: int | None
) -> str:
    """The progress table in Markdown, for a CI job summary."""
    marks = {"green": "✅ passes", "red": "❌ fails", "not checked": "· not checked"}
    rows = ["### Workshop progress", "", "| step | result | checks | first problem |"]
    rows.append("| --- | --- | --- | --- |")
    for step in found:
        data = _step_data(step, results.get(step.number))
        title, mark = _cell(step.label), marks[data["state"]]
        if step.number == current:
            title, mark = f"**{title}**", f"{mark} (you are here)"
        total = data["passed"] + data["failed"]
        checks = f"{data['passed']}/{total}" if total else ""
        problem = data["first_failure"] or {}
        words = problem.get("check") or (problem.get("message") or "").split("\n")[0]
        rows.append(f"| {title} | {mark} | {checks} | {_cell(words)} |")
    rows.append("")
    if current is None:
        rows.append("Every step passes: the workshop is finished.")
    else:
        guide = next(s for s in found if s.number == current).guide.relative_to(root)
        rows.append(f"You are on step {current}: read `{guide.as_posix()}`.")
    return "\n".join(rows) + "\n\n"


def _cell(text: str) -> str:
    """Text that stays in one table cell: no line breaks, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _append(path: Path, text: str) -> None:
    try:
        with path.open("a", encoding="utf-8") as file:
            file.write(text)
    except OSError as error:
        raise WorkshopError(f"cannot write the summary to {path}: {error}") from None
