"""`workshop check` and `workshop status`: how far does app/ get?

`check [N]` runs the suites of steps 0..N against app/ (or a checkpoint) and
explains each failure in the learner's words. `status` runs every suite and
shows the progress list. Both run pytest in this process (see workshop.suites).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from workshop.project import APP, Step, find_root, get_step, steps
from workshop.ui import WorkshopError, bad, ok, style

PASS, FAIL, SKIP = "✓", "✗", "·"


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "status":
        parser.add_argument(
            "--all",
            action="store_true",
            help="also check the steps after the one you are on (slower)",
        )
        return
    parser.add_argument(
        "step",
        nargs="?",
        help="check the steps up to this one (default: the step you are on)",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="K",
        help="check checkpoints/step-K/app instead of app/ (default step: K)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also show pytest's full output"
    )


def run(args: argparse.Namespace) -> int:
    root = find_root()
    all_steps = steps(root)
    if not all_steps:
        raise WorkshopError(f"no steps found: {root / 'checkpoints'} has no step-N")
    if args.command == "status":
        return status(root, all_steps, every=args.all)
    return check(root, all_steps, args.step, args.checkpoint, args.verbose)


def label(step: Step) -> str:
    """'Step 1 — Respond first' from the guide, or 'Step 1' without one."""
    return step.title if step.title != step.name else f"Step {step.number}"


def span(numbers: list[int]) -> str:
    return f"step {numbers[0]}" if len(numbers) == 1 else f"steps 0 to {numbers[-1]}"


def check(
    root: Path,
    all_steps: list[Step],
    upto: str | None,
    checkpoint: str | None,
    verbose: bool = False,
) -> int:
    from workshop.suites import run_suites
    from workshop.ui import use_color

    app_dir, target = root, "app/"
    if checkpoint is not None:
        chosen = get_step(root, checkpoint)
        app_dir, target = chosen.checkpoint, f"checkpoints/{chosen.name}/app"
        upto = str(chosen.number) if upto is None else upto
    if not (app_dir / APP).is_dir():
        raise WorkshopError(f"nothing to check: {app_dir / APP} is not a folder")
    numbers = [s.number for s in all_steps]
    if upto is not None:
        last = get_step(root, upto).number
        numbers = [n for n in numbers if n <= last]
        print(f"Checking {target} against {span(numbers)}\n")
        results = run_suites(root, app_dir, numbers, verbose=verbose, color=use_color())
    else:
        print(f"Checking {target} up to the step you are on\n")
        results = run_suites(
            root,
            app_dir,
            numbers,
            stop_at_first_red=True,
            verbose=verbose,
            color=use_color(),
        )
        results = [r for r in results if r.ran]
    by_number = {s.number: s for s in all_steps}
    for result in results:
        print_step(by_number[result.number], result, details=True)
    red = [r for r in results if not r.ok]
    print()
    if red:
        print(f"Stuck? Run: {style(f'workshop hint {red[0].number}', 'bold')}")
        return 1
    total = sum(r.passed for r in results)
    print(ok(f"All {total} checks of {span([r.number for r in results])} pass."))
    following = [s for s in all_steps if s.number > results[-1].number]
    if checkpoint is None and upto is None and following:
        guide = following[0].guide.relative_to(root)
        print(f"Next: step {following[0].number}, read {guide}")
    return 0


def print_step(step: Step, result, *, details: bool, here: bool = False) -> None:
    from workshop.suites import StepResult

    assert isinstance(result, StepResult)
    total = result.passed + len(result.failures)
    count = style(f"({result.passed}/{total})", "dim") if total else ""
    marker = style("  ← you are here", "bold") if here else ""
    if not result.ran:
        print(f"  {style(SKIP, 'dim')} {label(step)}{marker}")
        return
    mark = ok(PASS) if result.ok else bad(FAIL)
    print(f"  {mark} {' '.join(filter(None, [label(step), count]))}{marker}")
    if not details:
        return
    for error in result.messages:
        print(f"      {bad(FAIL)} {indent(error, 8)}")
    for failure in result.failures:
        print(f"      {bad(FAIL)} {failure.expectation}")
        print(style(indent(failure.message, 10, first=True), "dim"))


def indent(text: str, width: int, first: bool = False) -> str:
    pad = " " * width
    lines = text.splitlines() or [""]
    head = (pad if first else "") + lines[0]
    return "\n".join([head, *(pad + line for line in lines[1:])])


def status(root: Path, all_steps: list[Step], every: bool = False) -> int:
    """The progress list. Steps after the first red one are not run unless
    `every`: each builds on the one before, and red suites can be slow."""
    from workshop.suites import run_suites

    if not (root / APP).is_dir():
        raise WorkshopError(f"no {APP}/ folder in {root}")
    numbers = [s.number for s in all_steps]
    results = run_suites(root, root, numbers, stop_at_first_red=not every)
    current = next((r.number for r in results if not r.ok), None)
    print("Your progress (app/):\n")
    for step, result in zip(all_steps, results, strict=True):
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
