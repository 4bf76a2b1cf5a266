"""`workshop update [SOURCE]`: bring this copy up to the course's latest.

A dry run unless `--apply`: the update rewrites files the learner may have
edited (a guide, the README's Codespaces link, a workflow), so it first shows
what it would do, file by file, and what the course changed, step by step.
`--apply` makes one commit on the current branch, keeps the commit before
under refs/workshop/update/ (undo: `git reset --keep <it>`) and rebuilds the
step-N tags, printing their old and new ids; the undo line it prints puts
the tags back too. app/ is never touched. One update, goto or restore at a
time (the lock of workshop/lock.py). See workshop/course/updating.py for the merge.
"""

from __future__ import annotations

import re
from pathlib import Path

from workshop import git, lock
from workshop.commands.tags import report as report_tags
from workshop.course import tagging, updating
from workshop.errors import WorkshopError
from workshop.project import APP, STATE, require_git
from workshop.ui import bad, ok, style

WORDS = {"course": "from the course", "merged": "merged with yours",
         "conflict": "conflict", "kept": "kept yours"}  # fmt: skip
_STEP_FILE = re.compile(r"^checkpoints/step-(\d+)/(.+)$")
_SUITE = re.compile(r"^tests/steps/test_step_(\d+)(?:_crash)?\.py$")
PARTS = ("guide", "checkpoint", "checks")
WORKFLOWS = ".github/workflows/"
DEPENDENCIES = ("requirements.txt", "pyproject.toml")


def update(
    root: Path, source: str | None = None, *, apply: bool = False, markers: bool = False
) -> int:
    require_git(root, "update")
    if tagging.step_of_commit(root) is not None:
        raise WorkshopError(
            "HEAD is a generated step tag: switch to your branch (git switch main) "
            "before updating"
        )
    (root / STATE).mkdir(exist_ok=True)
    with lock.held(root / STATE, "update"):
        return _update(root, source, apply=apply, markers=markers)


def _update(root: Path, source: str | None, *, apply: bool, markers: bool) -> int:
    if finished := updating.finish_interrupted(root):
        print(ok(f"Finished the update that was interrupted: {finished[:12]}."))
        refresh_tags(root)
    plan = updating.make_plan(root, updating.resolve_source(root, source))
    print_plan(plan)
    if plan.up_to_date:
        print(ok(f"Up to date with the course ({plan.course[:12]}): nothing to do."))
        return 0
    if plan.conflicts and not markers:
        print_conflicts(plan)
        return 1
    if not apply:
        print("Then the step-N tags are rebuilt from the new commit.")
        print(
            "Dry run: nothing was written. To apply it: "
            + style("workshop update --apply" + " --markers" * markers, "bold")
        )
        return 0
    with updating.deferred_signals():  # a signal waits for the tags and the undo
        tags_before = step_tags(root)
        done = updating.apply(root, plan, markers=markers)
        print(ok(f"Committed {(done.commit or '')[:12]}: workshop update."))
        refresh_tags(root)
        undo = undo_line(plan.head, tags_before, step_tags(root))
        print(f"  undo: {undo}", flush=True)
        print(style(f"  (the tags go back too; the commit before is kept as "
                    f"{done.undo})", "dim"), flush=True)  # fmt: skip
    if plan.conflicts:
        listed = " ".join(c.path for c in plan.conflicts)
        print(
            f"{bad('To finish:')} resolve the <<<<<<< markers in {listed}, then "
            f"commit them (git commit -am 'Resolve the course update')."
        )
    return 0


def step_tags(root: Path) -> dict[str, str]:
    """{step-N: commit id} of the copy's step tags."""
    out = git.run(root, "for-each-ref", "--format=%(refname:strip=2) %(objectname)",
                  "refs/tags/step-*")  # fmt: skip
    return dict(line.split() for line in out.splitlines() if line.strip())


def undo_line(head: str, before: dict[str, str], after: dict[str, str]) -> str:
    """One command that puts the branch and every step-N tag back."""
    moved = [f"git tag -f {n} {c}" for n, c in sorted(before.items())
             if after.get(n) != c]  # fmt: skip
    made = [f"git tag -d {n}" for n in sorted(set(after) - set(before))]
    return " && ".join([f"git reset --keep {head[:12]}", *moved, *made])


def print_plan(plan: updating.Plan) -> None:
    print(f"Course: {plan.source} at {plan.course[:12]}")
    base = plan.base[:12] if plan.base else "unknown"
    print(style(f"  last merged: {base} ({plan.base_how})", "dim"))
    summary = changed_by_step(plan.course_paths)
    if summary:
        print("What the course changed:")
        for line in summary:
            print(f"  {line}")
    if plan.changes:
        print("Your copy:")
        width = max(len(WORDS[c.kind]) for c in plan.changes)
        for change in plan.changes:
            word = (
                "deleted"
                if change.new is None and change.kind == "course"
                else (WORDS[change.kind])
            )
            why = f": {change.why}" if change.why else ""
            colour = bad if change.kind == "conflict" else str
            print(f"  {colour(f'{word:<{width}}')} {change.path}{why}")
    print(style(f"Never touched: {APP}/ and the files you added.", "dim"))
    if plan.app_changed:
        print(
            style(
                f"  (the course's {APP}/ changed too; `workshop goto 0` would make "
                f"yours equal to checkpoint 0, saving your work first)",
                "dim",
            )
        )
    if any(c.path in DEPENDENCIES for c in plan.changes):
        print(
            f"{bad('note:')} the dependencies change: the next make run (or make "
            "venv) installs them."
        )
    workflows = [c.path for c in plan.changes if c.path.startswith(WORKFLOWS)]
    if workflows:
        print(
            f"{bad('note:')} this changes {', '.join(workflows)}: pushing workflow "
            "files to GitHub needs a token with the 'workflow' scope "
            "(gh auth refresh -s workflow)."
        )


def changed_by_step(paths: list[str]) -> list[str]:
    """ "step 5's guide and checkpoint changed", then the other files."""
    parts: dict[int, set[str]] = {}
    others: dict[str, list[str]] = {}
    for path in paths:
        if match := _STEP_FILE.match(path):
            part = "guide" if match.group(2) == "README.md" else "checkpoint"
        elif match := _SUITE.match(path):
            part = "checks"
        else:
            top = path.split("/")[0] + "/" if "/" in path else path
            others.setdefault(top, []).append(path)
            continue
        parts.setdefault(int(match.group(1)), set()).add(part)
    lines = [
        f"step {n}'s {_and([p for p in PARTS if p in found])} changed"
        for n, found in sorted(parts.items())
    ]
    also = [f"{top} ({len(ps)} files)" if len(ps) > 1 else ps[0]
            for top, ps in sorted(others.items())]  # fmt: skip
    return lines + ([f"also: {', '.join(also)}"] if also else [])


def _and(words: list[str]) -> str:
    return (
        " and ".join(words)
        if len(words) < 3
        else (f"{', '.join(words[:-1])} and {words[-1]}")
    )


def print_conflicts(plan: updating.Plan) -> None:
    listed = " ".join(c.path for c in plan.conflicts)
    print(
        f"{bad('Stopped:')} your changes and the course's overlap in {listed}. "
        "Nothing was written. To finish, either:\n"
        "  - workshop update --apply --markers: everything else is applied, and "
        "these files get <<<<<<< markers to resolve, then commit;\n"
        "  - or undo your change to them (git show HEAD:FILE keeps it), commit, "
        "and update again."
    )


def refresh_tags(root: Path) -> None:
    """Rebuild the step-N tags from the new commit (forced), ids printed."""
    try:
        built = tagging.build(root)
    except WorkshopError as error:
        print(f"note: the step-N tags were not rebuilt ({error}): run workshop tags")
        return
    tagging.write(root, built)
    print("The step-N tags now follow the update:")
    report_tags(built, dry_run=False)
