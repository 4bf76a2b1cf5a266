"""Switch app/ to another tree without ever losing work (used by goto and restore).

When app/ holds work that exists nowhere else (it differs from HEAD, from every
committed checkpoint and from every earlier backup), that work is first saved
as a commit on refs/workshop/backup/<UTC time>.

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

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from workshop import backups, faults, git, lock
from workshop.errors import WorkshopError
from workshop.project import APP, STATE, steps
from workshop.ui import bad, ok, plural


@contextmanager
def session(root: Path, command: str) -> Iterator[None]:
    """Hold the checkout's goto/restore lock from before app/ is read until done.

    Taken before the snapshot, so a second command can neither read a half
    switched app/ nor move files at the same time.
    """
    with lock.held(state_folder(root), command):
        yield


def state_folder(root: Path) -> Path:
    """.workshop/, created if needed; one clear line when it cannot be."""
    state = root / STATE
    try:
        state.mkdir(exist_ok=True)
    except FileExistsError:
        raise WorkshopError(
            f"{STATE} is a file, not a folder: the workshop keeps its state "
            "there; rename or remove it, then try again"
        ) from None
    except OSError as error:
        raise WorkshopError(
            f"cannot create {STATE}/ in {root}: {error.strerror} (goto and "
            "restore keep their lock and journal there)"
        ) from None
    return state


def switch(
    root: Path, head: str, snap: git.Snapshot, target: str | None, reason: str
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
    empty = git.empty_tree(root)
    plan = git.changes(root, current or empty, target or empty)
    for change in plan:
        if change.new_mode == git.GITLINK_MODE:
            raise WorkshopError(
                f"cannot copy app/{change.path}: it is a nested git repository"
            )
        if change.old_mode == git.GITLINK_MODE:
            # A backup would hold only its commit id, not its files.
            raise WorkshopError(
                f"app/{change.path} is a nested git repository: move it out of "
                "app/ first (goto and restore cannot save it)"
            )
    stage = Path(tempfile.mkdtemp(prefix="goto-", dir=state_folder(root)))
    keep_stage = False
    try:
        (stage / "new").mkdir()
        (stage / "old").mkdir()
        if target:
            git.write_tree_to(root, target, stage / "new")
        saved = None
        if current and current not in _known_states(root, head):
            files = _describe(root, head, current)
            saved = backups.save(root, head, snap.tree, reason, files)
        faults.point("after-snapshot")
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
        faults.point("switched")
    finally:
        if not keep_stage:
            shutil.rmtree(stage, ignore_errors=True)
    if saved:
        count = plural(len(saved.files), "file")
        print(f"Saved your changes to app/ ({count}) as {ok(saved.name)}.")
        for line in saved.how_to_restore():
            print(f"  {line}")
    if git.has_staged(root, APP):
        print(
            f"{bad('note:')} you have staged changes under app/; they stay staged "
            "(git restore --staged app unstages them)."
        )
    return saved


def _known_states(root: Path, head: str) -> set[str]:
    """app/ trees kept elsewhere: HEAD's, each checkpoint's, each backup's."""
    names = [f"{head}:{APP}"]
    names += [f"{head}:{s.app.relative_to(root).as_posix()}" for s in steps(root)]
    names += [f"{b.commit}:{APP}" for b in backups.all_backups(root)]
    out = git.run(root, "cat-file", "--batch-check", input="\n".join(names) + "\n")
    known = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "tree":
            known.add(parts[0])
    return known


def _describe(root: Path, head: str, current: str) -> list[str]:
    """The files of app/ that differ from HEAD, e.g. ['M app/main.py']."""
    base = git.subtrees(root, head, [APP]).get(APP) or git.empty_tree(root)
    return [f"{c.status} app/{c.path}" for c in git.changes(root, base, current)]


def _describe_error(error: OSError) -> str:
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


class _RollbackFailed(Exception):
    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def apply(app: Path, new: Path, old: Path, plan: list[git.Change]) -> None:
    """Move the planned files from `new` into `app`, or undo every move and raise.

    Files that leave app/ (deleted or replaced) are moved into `old`. Ignored
    files (such as __pycache__) stay where they are unless a new file needs
    their place.
    """
    undo: list[Callable[[], None]] = []
    renames = 0

    def move(source: Path, dest: Path) -> None:
        nonlocal renames
        os.rename(source, dest)
        undo.append(lambda: os.rename(dest, source))
        renames += 1
        faults.point(f"moved@{renames}")

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
        for done, step in enumerate(reversed(undo), start=1):
            try:
                step()
            except OSError as undo_error:
                failed.append(undo_error)
            faults.point(f"undone@{done}")
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
