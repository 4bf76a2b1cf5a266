"""The renames that switch app/, written down before each one happens.

A switch stages its files in a folder on app/'s file system:

    STAGE/new/app/...      the new files (written by git), moved into app/
    STAGE/old/G/app/...    what left app/: replaced or deleted files, and
                           anything in the way; G (0, 1, ...) only grows when
                           a path is taken, e.g. a folder whose files left first
    STAGE/moves            one JSON line per rename or folder made

Every rename is logged (one small write, no fsync) *before* it happens, so
the log is a superset of what was done: undoing walks it backwards and only
undoes a rename whose result is there. That makes undo safe to run twice, and
from another process after this one was killed (see workshop/switch.py).
Paths in the log are relative to the checkout's root.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from itertools import count
from pathlib import Path

from workshop.project import APP

LOG = "moves"
Op = tuple[str, str, str]  # ("move", source, dest) or ("mkdir", folder, "")


def _nothing(_number: int) -> None:
    pass


class Moves:
    """Renames between app/ and a stage, each logged before it happens."""

    def __init__(
        self, root: Path, stage: Path, after_each: Callable[[int], None] = _nothing
    ) -> None:
        self.root, self.stage, self.app = root, stage, root / APP
        self.after_each = after_each  # called with the count after each rename
        self.done: list[Op] = []
        self.renames = 0
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0)
        self._log = os.open(stage / LOG, flags, 0o644)

    def close(self) -> None:
        os.close(self._log)

    def _write(self, op: Op) -> None:
        self.done.append(op)
        os.write(self._log, (json.dumps(op) + "\n").encode())

    def _relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def move(self, source: Path, dest: Path) -> None:
        self._write(("move", self._relative(source), self._relative(dest)))
        os.rename(source, dest)
        self.renames += 1
        self.after_each(self.renames)

    def aside(self, path: Path) -> None:
        """Move whatever is at `path` in app/ into old/ (if anything is)."""
        if os.path.lexists(path):
            self.move(path, place_aside(self.stage, path.relative_to(self.app)))

    def make_folder(self, folder: Path) -> None:
        """Make `folder` (and its parents) a real folder, moving files aside."""
        if folder.is_dir() and not folder.is_symlink():
            return
        self.make_folder(folder.parent)
        self.aside(folder)
        self._write(("mkdir", self._relative(folder), ""))
        folder.mkdir()


def place_aside(stage: Path, relative: Path) -> Path:
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


def read_log(stage: Path) -> list[Op]:
    """The operations logged in a stage (a torn last line is skipped)."""
    try:
        lines = (stage / LOG).read_bytes().splitlines()
    except FileNotFoundError:
        return []
    ops = []
    for line in lines:
        try:
            kind, first, second = json.loads(line)
        except ValueError:
            continue  # cut short by a crash: it was never acted on
        ops.append((kind, first, second))
    return ops


def undo(
    root: Path, stage: Path, ops: list[Op], after_each: Callable[[int], None] = _nothing
) -> list[OSError]:
    """Undo `ops` newest first; returns what could not be undone."""
    failed = []
    for number, op in enumerate(reversed(ops), start=1):
        try:
            _undo_one(root, stage, op)
        except OSError as error:
            failed.append(error)
        after_each(number)
    return failed


def _undo_one(root: Path, stage: Path, op: Op) -> None:
    kind, first, second = op
    if kind == "mkdir":
        _remove_if_empty(root / first)
        return
    source, dest = root / first, root / second
    if not os.path.lexists(dest):
        return  # never happened, or already undone
    if os.path.lexists(source):
        if source.is_relative_to(stage):
            return  # the move into app/ never happened: what is there is not ours
        # Something new took the path meanwhile: keep it, beside the old files.
        os.rename(source, place_aside(stage, source.relative_to(root / APP)))
    source.parent.mkdir(parents=True, exist_ok=True)
    os.rename(dest, source)


def _remove_if_empty(folder: Path) -> None:
    """rmdir, but a folder that holds something new stays (it is kept aside)."""
    try:
        folder.rmdir()
    except FileNotFoundError:
        pass
    except OSError:
        if not _is_folder(folder) or not any(folder.iterdir()):
            raise
