"""`workshop diff N`: step N's change to app/ (checkpoint N-1 to checkpoint N).

The checkpoints are read from disk as git sees them (git-ignored files such as
__pycache__ are left out) and compared as trees, so paths read app/... and the
output can be piped into `git apply`.
"""

from __future__ import annotations

import argparse
import sys

from workshop import gitops
from workshop.project import APP, find_root, get_step, git, steps
from workshop.ui import WorkshopError, use_color


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "step",
        help="the step whose change to show (1 or later: step 0 has no previous step)",
    )
    parser.add_argument(
        "--stat", action="store_true", help="only list the changed files with counts"
    )
    parser.add_argument(
        "--color",
        nargs="?",
        const="always",
        default="auto",
        choices=["auto", "always", "never"],
        help="colour the diff: auto (on a terminal, unless NO_COLOR is set), "
        "always (the default of a bare --color) or never",
    )


def run(args: argparse.Namespace) -> int:
    root = find_root()
    step = get_step(root, args.step)
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
    snap = gitops.snapshot(root, folders)
    old, new = gitops.wrap(root, [snap.folders.get(f) for f in folders], APP)
    color = args.color == "always" or (args.color == "auto" and use_color(sys.stdout))
    options = ["--stat"] if args.stat else ["--patch"]
    out = git(
        root,
        "diff",
        "--no-ext-diff",
        f"--color={'always' if color else 'never'}",
        *options,
        old,
        new,
    )
    if not out:
        print(f"step {step.number} does not change app/", file=sys.stderr)
    sys.stdout.write(out)
    return 0
