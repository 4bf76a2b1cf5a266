"""`workshop check [N]`: run the checks of steps 0..N against app/ (or a checkpoint)
and explain each failure in the learner's words."""

from __future__ import annotations

from pathlib import Path

from workshop.errors import WorkshopError
from workshop.project import APP, all_steps, get_step
from workshop.report import print_step, span
from workshop.suites import run_suites
from workshop.ui import ok, style, use_color


def check(
    root: Path,
    *,
    upto: str | None = None,
    checkpoint: str | None = None,
    verbose: bool = False,
) -> int:
    found = all_steps(root)
    app_dir, target = root, "app/"
    if checkpoint is not None:
        chosen = get_step(root, checkpoint)
        app_dir, target = chosen.checkpoint, f"checkpoints/{chosen.name}/app"
        upto = str(chosen.number) if upto is None else upto
    if not (app_dir / APP).is_dir():
        raise WorkshopError(f"nothing to check: {app_dir / APP} is not a folder")
    numbers = [s.number for s in found]
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
    by_number = {s.number: s for s in found}
    for result in results:
        print_step(by_number[result.number], result, details=True)
    red = [r for r in results if not r.ok]
    print()
    if red:
        print(f"Stuck? Run: {style(f'workshop hint {red[0].number}', 'bold')}")
        return 1
    total = sum(r.passed for r in results)
    print(ok(f"All {total} checks of {span([r.number for r in results])} pass."))
    following = [s for s in found if s.number > results[-1].number]
    if checkpoint is None and upto is None and following:
        guide = following[0].guide.relative_to(root)
        print(f"Next: step {following[0].number}, read {guide}")
    return 0
