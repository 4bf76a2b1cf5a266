"""`workshop diff N`: step N's change to app/ (checkpoint N-1 to checkpoint N).

The checkpoints are read from disk as git sees them (git-ignored files such as
__pycache__ are left out) and compared as trees, so paths read app/... and the
output can be piped into `git apply`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from workshop import git
from workshop.errors import WorkshopError
from workshop.project import APP, get_step, require_git, steps
from workshop.ui import use_color


def diff(root: Path, step_name: str, *, stat: bool = False, color: str = "auto") -> int:
    require_git(root, "diff")
    step = get_step(root, step_name)
    earlier = [s for s in steps(root) if s.number < step.number]
    if not earlier:
        raise WorkshopError(
            f"step {step.number} is the first step: it has no previous step to "
            "compare with (show the next one with 'workshop diff "
            f"{step.number + 1}')"
        )
    before = earlier[-1]
    for checked in (before, step):
        if not checked.app.is_dir():
            folder = checked.app.relative_to(root).as_posix()
            raise WorkshopError(
                f"{folder}/ is missing: step {checked.number} has no app"
            )
    folders = [s.app.relative_to(root).as_posix() for s in (before, step)]
    snap = git.snapshot(root, folders)
    old, new = git.wrap(root, [snap.folders.get(f) for f in folders], APP)
    colored = color == "always" or (color == "auto" and use_color(sys.stdout))
    out = git.run(
        root,
        "diff",
        "--no-ext-diff",
        # a/ and b/ whatever the user's diff.noprefix says: `| git apply` works
        "--src-prefix=a/",
        "--dst-prefix=b/",
        f"--color={'always' if colored else 'never'}",
        "--stat" if stat else "--patch",
        old,
        new,
    )
    if not out:
        print(f"step {step.number} does not change app/", file=sys.stderr)
    sys.stdout.write(out)
    return 0
