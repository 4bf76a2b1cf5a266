"""`workshop check [N]`: run the checks of steps 0..N against app/ (or a checkpoint)
and explain each failure in the learner's words.

Without N it checks the step you are on (workshop/checks/progress.py) and the steps
before it, and keeps that step in focus: an earlier step that broke with the
same error is one line, not a wall of the same message.
"""

from __future__ import annotations

from pathlib import Path

from workshop.checks import progress
from workshop.checks.course_copy import course_root
from workshop.checks.results import StepResult
from workshop.checks.suites import Watching, run_suites
from workshop.checks.summary import (
    first_cause,
    print_details,
    root_cause,
    same_error_note,
    span,
    step_line,
)
from workshop.errors import WorkshopError
from workshop.project import APP, Step, all_steps, get_step
from workshop.room import reporting
from workshop.ui import ok, style, use_color


def check(
    root: Path,
    *,
    upto: str | None = None,
    checkpoint: str | None = None,
    verbose: bool = False,
    watching: Watching | None = None,
    crash: bool = False,
) -> int:
    """`watching`: how `workshop watch` runs it (see workshop/checks/suites.py);
    `crash`: each step's crash tier too (tests/steps/test_step_N_crash.py)."""
    found = all_steps(root)
    if upto is None and checkpoint is None:
        return check_current(root, found, verbose, watching, crash)
    app_dir, target = root, "app/"
    if checkpoint is not None:
        chosen = get_step(root, checkpoint)
        app_dir, target = chosen.checkpoint, f"checkpoints/{chosen.name}/app"
        upto = str(chosen.number) if upto is None else upto
    if not (app_dir / APP).is_dir():
        raise WorkshopError(f"nothing to check: {app_dir / APP} is not a folder")
    last = get_step(root, upto).number
    numbers = [s.number for s in found if s.number <= last]
    print(f"Checking {target} against {span(numbers)}\n")
    # a checkpoint is the course's own: checked with the suites as they are
    with course_root(root, checkpoint is None) as (suites, note):
        if note:
            print(style(note, "bold"), "\n")
        results = run_suites(
            suites, app_dir, numbers, verbose=verbose, color=use_color(),
            watching=watching, crash=crash,
        )  # fmt: skip
    if checkpoint is None:
        progress.note(root, results)
        reporting.report(root, results, "watch" if watching else "check")
    print_all(found, results)
    red = [r for r in results if not r.ok]
    print()
    if red:
        on = progress.recorded_step(root) if checkpoint is None else None
        if on is not None and (note := ahead_note(root, on, red)):
            print(note)
            red = [r for r in red if r.number <= on.number]
        if red:
            # the step the learner is on, when it is red: their change broke
            # the earlier ones too; else the first red one (hint_for)
            if on is not None and any(r.number == on.number for r in red):
                hint = on.number
            else:
                hint = hint_for(red, last)
            print(f"Stuck? Run: {style(f'workshop hint {hint}', 'bold')}")
        return 1
    total = sum(r.passed for r in results)
    print(ok(f"All {total} checks of {span(numbers)} pass."))
    return 0


def ahead_note(root: Path, on: Step, red: list[StepResult]) -> str | None:
    """One line for the red steps after `on`, the step the learner is on (red
    is expected there), with the guide of that step."""
    ahead = [r.number for r in red if r.number > on.number]
    if not ahead:
        return None
    guide = on.guide.relative_to(root).as_posix()
    return (
        f"{span(ahead).capitalize()}: after step {on.number}, the step you are on,"
        f" so red until you get there (step {on.number}'s guide: {guide})."
    )


def hint_for(red: list[StepResult], asked: int) -> int:
    """The step whose hints to offer: the first red one, unless every red step
    fails with the step asked for's own error (an earlier suite only reached the
    same code first): then the step asked for, the one being worked on."""
    last = red[-1]
    cause = root_cause(last)
    same = cause is not None and all(root_cause(r) == cause for r in red)
    return last.number if last.number == asked and same else red[0].number


def print_all(found: list[Step], results: list[StepResult]) -> None:
    """Every step with its details; a cause already shown is named, not repeated."""
    by_number = {s.number: s for s in found}
    shown: dict[str, int] = {}
    for result in results:
        print(step_line(by_number[result.number], result))
        cause = root_cause(result)
        if cause is not None and cause in shown:
            print(style(f"      (the same error as step {shown[cause]})", "dim"))
        elif not result.ok:
            print_details(result)
            if cause is not None:
                shown[cause] = result.number


def check_current(
    root: Path,
    found: list[Step],
    verbose: bool,
    watching: Watching | None,
    crash: bool = False,
) -> int:
    if not (root / APP).is_dir():
        raise WorkshopError(f"nothing to check: {root / APP} is not a folder")
    recorded = progress.recorded_step(root)
    numbers = [s.number for s in found if not recorded or s.number <= recorded.number]
    where = f"step {recorded.number}, the step you are on" if recorded else "yours"
    print(f"Checking app/ up to {where}\n")
    with course_root(root) as (suites, note):
        if note:
            print(style(note, "bold"), "\n")
        results = run_suites(
            suites,
            root,
            numbers,
            stop_from=0 if recorded is None else None,
            verbose=verbose,
            color=use_color(),
            watching=watching,
            crash=crash,
        )
    results = _up_to_the_last_run(results)
    focus = recorded.number if recorded else _first_red(results)
    progress.note(root, results)
    reporting.report(root, results, "watch" if watching else "check")
    return show_focus(root, found, results, focus)


def _up_to_the_last_run(results: list[StepResult]) -> list[StepResult]:
    """Without the steps after the last one that ran (not the learner's yet);
    a step between that did not run (its lane stopped at a hang) stays, shown
    as not checked."""
    ran = [i for i, r in enumerate(results) if r.ran]
    return results[: ran[-1] + 1] if ran else []


def _first_red(results: list[StepResult]) -> int:
    last = results[-1].number if results else 0
    return next((r.number for r in results if r.ran and not r.ok), last)


def show_focus(
    root: Path, found: list[Step], results: list[StepResult], focus: int
) -> int:
    """Step `focus` in full; earlier steps one line each, or one line in all."""
    by_number = {s.number: s for s in found}
    mine = next((r for r in results if r.number == focus), None)
    if mine is None or not mine.ran:
        return show_stopped(found, [r for r in results if r.ran], focus)
    cause = root_cause(mine)
    alike = [r.number for r in results if r.number < focus and _red(r)]
    alike = [n for n in alike if root_cause(_at(results, n)) == cause]
    told: dict[str, int] = {}  # an earlier step's cause, shown once
    for result in results:
        if result.number not in alike:
            print(step_line(by_number[result.number], result))
        if result is mine:
            print_details(mine)
        elif not mine.ok and _red(result) and result.number not in alike:
            line = first_cause(result)  # never silent, and never a second wall
            if line in told:
                line = style(f"      (the same error as step {told[line]})", "dim")
            told.setdefault(line, result.number)
            print(line)
    if alike:
        print(same_error_note(alike))
    print()
    broken = [r for r in results if r.number < focus and _red(r)]
    if not mine.ok:
        print(f"Stuck? Run: {style(f'workshop hint {focus}', 'bold')}")
        return 1
    if broken:
        first = broken[0]
        print(f"Step {focus} passes, but step {first.number} no longer does:")
        print_details(first)
        print(f"\nStuck? Run: {style(f'workshop hint {first.number}', 'bold')}")
        return 1
    return show_next(root, found, focus)


def show_stopped(found: list[Step], results: list[StepResult], focus: int) -> int:
    """The run stopped (a hang, a crash) before step `focus` ran: the steps that
    ran, the first red one in full, and one line on why `focus` has no result."""
    by_number = {s.number: s for s in found}
    red = next((r for r in results if _red(r)), None)
    for result in results:
        print(step_line(by_number[result.number], result))
        if result is red:
            print_details(result)
    stopped = red.number if red else (results[-1].number if results else None)
    where = (
        f"the run stopped at step {stopped}"
        if stopped is not None
        else ("the run stopped before any step ran")
    )
    print(f"\n  Step {focus} was not checked: {where}; fix that first.\n")
    hint = red.number if red else focus
    print(f"Stuck? Run: {style(f'workshop hint {hint}', 'bold')}")
    return 1


def _red(result: StepResult) -> bool:
    return result.ran and not result.ok


def _at(results: list[StepResult], number: int) -> StepResult:
    return next(r for r in results if r.number == number)


def show_next(root: Path, found: list[Step], done: int) -> int:
    following = [s for s in found if s.number > done]
    if not following:
        print(ok("Every step passes: you have finished the workshop."))
        return 0
    step = following[0]
    guide = step.guide.relative_to(root).as_posix()
    print(ok(f"Step {done} passes."), f"Next: {step.label}, read {guide}")
    return 0
