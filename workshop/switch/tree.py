"""Writing a tree into app/ one rename at a time, keeping whatever leaves it.

git writes the new files into a stage on app/'s file system (STAGE/new/app/);
each file the switch replaces or deletes is first moved aside
(STAGE/old/G/app/, G growing only when a path is taken), then the new one is
renamed in. Renaming files, not the folder, keeps app/ the same folder: a
running `fastapi dev` keeps watching it and a shell inside app/ stays valid.

Moving aside instead of overwriting keeps an editor's save made while a switch
runs: before the stage is deleted, `late_edits` finds what was moved aside that
is neither the old nor the new version of its file. And every step can run
again after a kill (a file already in place is moved aside and brought in
once more), which is how a half-switched app/ is finished.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from itertools import count
from pathlib import Path

from workshop import git
from workshop.project import APP, STATE
from workshop.switch import faults

STAGE_PREFIX = "goto-"  # in .workshop/
HIDDEN_PREFIX = ".workshop-goto-"  # in app/ or the root, when .workshop/ is elsewhere
SKIP = "__pycache__"  # bytecode: rebuilt by Python, never anyone's work


def new_stage(root: Path) -> Path:
    """A fresh stage on app/'s file system, so that every move is one rename.

    That is .workshop/, unless it lives on another file system (a link to
    elsewhere, or app/ is a mount of its own, as a container volume may be):
    then a hidden folder inside app/ itself, or beside it while app/ is missing.
    """
    app = root / APP
    device = (app if app.is_dir() else root).stat().st_dev
    for folder, prefix in _places(root):
        if folder.is_dir() and folder.stat().st_dev == device:
            return Path(tempfile.mkdtemp(prefix=prefix, dir=folder))
    raise AssertionError("app/ or the root is always on its own file system")


def _places(root: Path) -> list[tuple[Path, str]]:
    """Where stages may be, best first: (folder, name prefix)."""
    return [
        (root / STATE, STAGE_PREFIX),
        (root / APP, HIDDEN_PREFIX),
        (root, HIDDEN_PREFIX),
    ]


def remove_strays(root: Path, keep: Path | None) -> None:
    """Stages of a switch killed before its first rename: no one's files."""
    for folder, prefix in _places(root):
        for stage in folder.glob(f"{prefix}*") if folder.is_dir() else []:
            if stage != keep and stage.is_dir() and not _holds_files(stage / "old"):
                shutil.rmtree(stage, ignore_errors=True)


def _holds_files(folder: Path) -> bool:
    return any(files for _, _, files in os.walk(folder))


def fill(root: Path, stage: Path, target: str | None) -> None:
    """Write `target` (app/'s new tree) into STAGE/new/app, afresh."""
    shutil.rmtree(stage / "new", ignore_errors=True)
    (stage / "new" / APP).mkdir(parents=True)
    (stage / "old").mkdir(exist_ok=True)
    if target:
        git.write_tree_to(root, target, stage / "new" / APP)


def apply(root: Path, stage: Path, plan: list[git.Change]) -> None:
    """Move the planned files from the stage into app/, each old one aside first.

    Ignored files (such as __pycache__) stay where they are unless a new file
    needs their place. Stops at the first error, with app/ half switched.
    """
    app, new, moved = root / APP, stage / "new" / APP, count(1)

    def move(source: Path, dest: Path) -> None:
        os.rename(source, dest)
        faults.point(f"moved@{next(moved)}")

    def aside(path: Path) -> None:
        if os.path.lexists(path):
            move(path, _place_aside(stage, path.relative_to(app)))

    def make_folder(folder: Path) -> None:
        if not _is_folder(folder):
            make_folder(folder.parent)
            aside(folder)  # a file or a link where a folder must be
            folder.mkdir()

    make_folder(app)
    for change in sorted(plan, key=lambda c: c.status != "D"):
        aside(app / change.path)
        if change.status != "D":
            make_folder((app / change.path).parent)
            move(new / change.path, app / change.path)
    _tidy(app, plan)


def _place_aside(stage: Path, relative: Path) -> Path:
    """A free STAGE/old/G/app/<relative> (the first G where it fits), made ready."""
    for generation in count():
        top = stage / "old" / str(generation)
        dest = top / APP / relative
        folders = [p for p in dest.parents if p.is_relative_to(top) and p != top]
        blocked = any(os.path.lexists(p) and not _is_folder(p) for p in folders)
        if not blocked and not os.path.lexists(dest):
            dest.parent.mkdir(parents=True, exist_ok=True)
            return dest
    raise AssertionError("unreachable")


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _tidy(app: Path, plan: list[git.Change]) -> None:
    """Remove folders left empty by deleted files (never app/ itself)."""
    for change in plan:
        if change.status == "D":
            for folder in (app / change.path).parents:
                if folder == app or not folder.is_relative_to(app):
                    break
                try:
                    folder.rmdir()
                except OSError:
                    break


def late_edits(
    root: Path, stage: Path, before: str | None, target: str | None
) -> list[tuple[str, str, str]]:
    """(mode, blob, path in app/) of each file moved aside that holds neither
    its `before` nor its `target` version: an edit made while the switch ran."""
    old = stage / "old"
    known = [git.files(root, tree) if tree else {} for tree in (before, target)]
    found = []
    for folder in sorted(old.iterdir()) if old.is_dir() else []:
        for mode, blob, path in _hashed(root, folder):
            if all(versions.get(path, ("", ""))[1] != blob for versions in known):
                found.append((mode, blob, path))
    return found


def _hashed(root: Path, folder: Path) -> list[tuple[str, str, str]]:
    """(mode, blob, path) of every file below folder/app, hashed by git itself
    (same filters and line endings as the snapshot; the blobs are stored)."""
    paths = _files(folder / APP)
    if not paths:
        return []
    with git.temp_index() as env:
        git.run(
            root, "update-index", "--add", "-z", "--stdin",
            input="".join(f"{APP}/{p}\0" for p in paths),
            env={**env, "GIT_WORK_TREE": str(folder)},
        )  # fmt: skip
        out = git.run(root, "ls-files", "--stage", "-z", env=env)
    entries = [line.split("\t", 1) for line in out.split("\0") if line]
    return [
        (meta.split()[0], meta.split()[1], path.removeprefix(f"{APP}/"))
        for meta, path in entries
    ]


def _files(app: Path) -> list[str]:
    """Every file and symbolic link below `app`, relative to it."""
    found = []
    for top, folders, names in os.walk(app):
        folders[:] = [f for f in folders if f != SKIP]
        for name in names + [f for f in folders if os.path.islink(Path(top, f))]:
            found.append(Path(top, name).relative_to(app).as_posix())
    # A name that is not valid UTF-8 cannot be handed to git as text: such a
    # file was saved by the snapshot, and only an edit during the switch is lost.
    return sorted(p for p in found if _encodes(p))


def _encodes(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
