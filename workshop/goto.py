"""`workshop goto N` and `workshop restore`: move app/ without ever losing work.

goto makes app/ equal to checkpoint N: files added, changed and removed. When
app/ holds work that exists nowhere else (it differs from HEAD, from every
committed checkpoint and from every earlier backup), that work is first saved
as a commit on refs/workshop/backup/<UTC time>. restore brings saved work back,
saving the current app/ in the same way first.

Only app/ changes. The index and the branch are left alone on purpose: what the
learner staged stays staged (nothing of theirs is dropped), and `git status`
keeps telling the truth about app/ compared with their last commit.

Nothing is half-done: the new files are first written into a staging folder in
.workshop/ (next to app/, same file system), then moved into app/ one rename at
a time; if any rename fails, the ones already done are undone. Renaming files
rather than the whole folder keeps app/ the same folder, so a running
`fastapi dev` keeps watching it and a shell inside app/ stays valid.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from workshop import backups, gitops
from workshop.project import APP, STATE, find_root, get_step, git, steps
from workshop.ui import WorkshopError, bad, ok, style


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "goto":
        parser.add_argument("step", help="the step to go to, e.g. 3 or step-3")
        parser.epilog = (
            "Your changes in app/ are saved first (workshop restore lists them). "
            "Only app/ changes: the index, the branch and other files stay as they are."
        )
    else:
        parser.add_argument("name", nargs="?", help="the saved work to bring back")
        parser.add_argument(
            "--latest", action="store_true", help="bring back the newest saved work"
        )
        parser.epilog = (
            "Without NAME, lists the work saved by goto and restore. Restoring "
            "saves the current app/ first, so it never loses work either."
        )


def run(args: argparse.Namespace) -> int:
    if args.command == "goto":
        return goto(args.step)
    if args.name and args.latest:
        raise WorkshopError("give a NAME or --latest, not both")
    if args.name is None and not args.latest:
        return list_saved()
    return restore(args.name)


def goto(value: str) -> int:
    root = find_root()
    step = get_step(root, value)
    checkpoint = step.app.relative_to(root).as_posix()
    if not step.app.is_dir():
        raise WorkshopError(f"{checkpoint}/ is missing: step {step.number} has no app")
    head = gitops.head_commit(root)
    snap = gitops.snapshot(root, [APP, checkpoint], base=head)
    target = snap.folders.get(checkpoint)
    if target is None:
        raise WorkshopError(f"{checkpoint}/ holds no files")
    if snap.folders.get(APP) == target:
        print(f"app/ already equals step {step.number}: nothing to do.")
        return 0
    switch(root, head, snap, target, f"before goto {step.number}")
    print(f"app/ is now {style(step.title, 'bold')} ({checkpoint}).")
    return 0


def restore(name: str | None) -> int:
    root = find_root()
    backup = backups.find(root, name)
    head = gitops.head_commit(root)
    snap = gitops.snapshot(root, [APP], base=head)
    target = gitops.subtrees(root, backup.commit, [APP]).get(APP)
    if snap.folders.get(APP) == target:
        print(f"app/ already equals the work saved as {backup.name}: nothing to do.")
        return 0
    switch(root, head, snap, target, f"before restore {backup.name}")
    print(f"app/ is back to the work saved as {style(backup.name, 'bold')}.")
    return 0


def list_saved() -> int:
    root = find_root()
    saved = backups.all_backups(root)
    if not saved:
        print("No saved work yet: goto saves app/ here before it changes it.")
        return 0
    print("Saved work, newest first:")
    for backup in saved:
        files = ", ".join(f.split(" ", 1)[-1] for f in backup.files[:3])
        more = f" and {len(backup.files) - 3} more" if len(backup.files) > 3 else ""
        count = f"{len(backup.files)} file{'s' * (len(backup.files) != 1)}"
        print(f"  {style(backup.name, 'bold')}  {backup.when}  {backup.reason}")
        print(f"      {count}: {files}{more}")
    print("Bring one back with: workshop restore NAME (or --latest)")
    return 0


def switch(
    root: Path, head: str, snap: gitops.Snapshot, target: str | None, reason: str
) -> backups.Backup | None:
    """Make app/ hold `target` (None: no files), printing what was saved.

    Returns the backup made of the current app/, or None when nothing needed
    saving. Raises WorkshopError with app/ unchanged when anything fails.
    """
    app = root / APP
    if app.is_symlink() or (app.exists() and not app.is_dir()):
        kind = "a symbolic link" if app.is_symlink() else "a file"
        raise WorkshopError(
            f"{APP} is {kind}, not a folder: rename or move it, then try again"
        )
    current = snap.folders.get(APP)
    empty = gitops.empty_tree(root)
    plan = gitops.changes(root, current or empty, target or empty)
    for change in plan:
        if change.new_mode == gitops.GITLINK_MODE:
            raise WorkshopError(
                f"cannot copy app/{change.path}: it is a nested git repository"
            )
        if change.old_mode == gitops.GITLINK_MODE:
            # A backup would hold only its commit id, not its files.
            raise WorkshopError(
                f"app/{change.path} is a nested git repository: move it out of "
                "app/ first (goto and restore cannot save it)"
            )
    state = root / STATE
    state.mkdir(exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix="goto-", dir=state))
    keep_stage = False
    try:
        (stage / "new").mkdir()
        (stage / "old").mkdir()
        if target:
            gitops.write_tree_to(root, target, stage / "new")
        saved = None
        if current and current not in _known_states(root, head):
            files = _describe(root, head, current)
            saved = backups.save(root, head, snap.tree, reason, files)
        try:
            apply(root / APP, stage / "new", stage / "old", plan)
        except _RollbackFailed as error:
            keep_stage = True
            raise WorkshopError(
                f"{error.cause}; could not undo everything: the old files are in "
                f"{(stage / 'old').relative_to(root)}"
                + (f" and saved as {saved.name}" if saved else "")
            ) from None
        except OSError as error:
            if saved:
                backups.drop(root, saved)
            raise WorkshopError(
                f"app/ left as it was: {_describe_error(error)}"
            ) from None
    finally:
        if not keep_stage:
            shutil.rmtree(stage, ignore_errors=True)
    if saved:
        count = len(saved.files)
        print(
            f"Saved your changes to app/ ({count} file{'s' * (count != 1)}) "
            f"as {ok(saved.name)}."
        )
        for line in saved.how_to_restore():
            print(f"  {line}")
    if _has_staged(root):
        print(
            f"{bad('note:')} you have staged changes under app/; they stay staged "
            "(git restore --staged app unstages them)."
        )
    return saved


def _has_staged(root: Path) -> bool:
    """Whether the index holds changes under app/ compared with HEAD."""
    result = subprocess.run(
        ["git", "-C", str(root), "diff", "--cached", "--quiet", "HEAD", "--", APP],
        capture_output=True,
    )
    return result.returncode == 1


def _known_states(root: Path, head: str) -> set[str]:
    """app/ trees kept elsewhere: HEAD's, each checkpoint's, each backup's."""
    names = [f"{head}:{APP}"]
    names += [f"{head}:{s.app.relative_to(root).as_posix()}" for s in steps(root)]
    names += [f"{b.commit}:{APP}" for b in backups.all_backups(root)]
    out = git(root, "cat-file", "--batch-check", input="\n".join(names) + "\n")
    known = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "tree":
            known.add(parts[0])
    return known


def _describe(root: Path, head: str, current: str) -> list[str]:
    """The files of app/ that differ from HEAD, e.g. ['M app/main.py']."""
    base = gitops.subtrees(root, head, [APP]).get(APP) or gitops.empty_tree(root)
    return [f"{c.status} app/{c.path}" for c in gitops.changes(root, base, current)]


def _describe_error(error: OSError) -> str:
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


class _RollbackFailed(Exception):
    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def apply(app: Path, new: Path, old: Path, plan: list[gitops.Change]) -> None:
    """Move the planned files from `new` into `app`, or undo every move and raise.

    Files that leave app/ (deleted or replaced) are moved into `old`. Ignored
    files (such as __pycache__) stay where they are unless a new file needs
    their place.
    """
    undo: list[Callable[[], None]] = []

    def move(source: Path, dest: Path) -> None:
        os.rename(source, dest)
        undo.append(lambda: os.rename(dest, source))

    def move_aside(path: Path) -> None:
        if os.path.lexists(path):
            move(path, old / str(len(undo)))

    def make_folder(folder: Path) -> None:
        if folder.is_dir() and not folder.is_symlink():
            return
        make_folder(folder.parent)
        move_aside(folder)
        folder.mkdir()
        undo.append(folder.rmdir)

    try:
        make_folder(app)
        for change in sorted(plan, key=lambda c: c.status != "D"):
            path = app / change.path
            move_aside(path)
            if change.status != "D":
                make_folder(path.parent)
                move(new / change.path, path)
    except BaseException as error:  # also Ctrl-C: never leave app/ half-done
        failed = []
        for step in reversed(undo):
            try:
                step()
            except OSError as undo_error:
                failed.append(undo_error)
        if failed:
            cause = (
                _describe_error(error) if isinstance(error, OSError) else "interrupted"
            )
            raise _RollbackFailed(cause) from error
        raise
    # Done: tidy up folders left empty by deleted files (never app/ itself).
    for change in plan:
        if change.status == "D":
            for folder in (app / change.path).parents:
                if folder == app or not folder.is_relative_to(app):
                    break
                try:
                    folder.rmdir()
                except OSError:
                    break
