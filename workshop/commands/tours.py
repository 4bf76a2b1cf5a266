"""`workshop tours`: write the CodeTour of every step, `.tours/step-N.tour`.

Generated from each step's change (checkpoint N-1 to N) and its guide (see
workshop/course/tours.py); run it after changing a checkpoint or a guide's Exercise.
Only files named step-N.tour are written or removed. `--check` writes nothing
and fails when a tour is not what would be generated.
"""

from __future__ import annotations

from pathlib import Path

from workshop.course import tours
from workshop.project import all_steps
from workshop.ui import bad, ok


def write_tours(root: Path, *, check: bool = False) -> int:
    wanted = tours.generate(root, all_steps(root))
    stale = [p for p in tours.tour_files(root).values() if p not in wanted]
    differ = [p for p, text in wanted.items() if _read(p) != text]
    name = lambda path: path.relative_to(root).as_posix()  # noqa: E731
    if check:
        for path in differ:
            print(f"{bad('✗')} {name(path)} is not what 'workshop tours' writes")
        for path in stale:
            print(f"{bad('✗')} {name(path)} is the tour of a step that is gone")
        if differ or stale:
            return 1
        print(ok(f"All {len(wanted)} tours are up to date."))
        return 0
    (root / tours.TOURS).mkdir(exist_ok=True)
    for path in differ:
        path.write_text(wanted[path], encoding="utf-8")
        print(f"wrote {name(path)}")
    for path in stale:
        path.unlink()
        print(f"removed {name(path)}")
    unchanged = len(wanted) - len(differ)
    print(ok(f"{len(wanted)} tours: {len(differ)} written, {unchanged} unchanged."))
    return 0


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None
