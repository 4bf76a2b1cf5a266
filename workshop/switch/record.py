"""The record of a switch under way: .workshop/switch.json.

Written (and synced) before the first file of app/ moves and removed after the
last, so its presence is what "app/ is half-switched" means: a switch killed in
between (SIGKILL, a power cut, a file that would not move) leaves it behind.
Every command that reads app/ says so in one line (`note`); the next goto or
restore finishes that switch before it does anything else.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from workshop.errors import WorkshopError
from workshop.project import STATE

FILE = "switch.json"


@dataclass(frozen=True)
class Goal:
    """What a goto or restore is for, in the words its messages use."""

    command: str  # "goto 2"
    reason: str  # the backup's subject: "before goto 2"
    after: str  # once switched: "app/ is now step 2"
    progress: int | None = None  # the step to record as done once switched
    sets_progress: bool = False  # False: leave the recorded progress alone

    @property
    def to_finish(self) -> str:
        return f"run 'workshop {self.command}' to finish it"


@dataclass(frozen=True)
class Record:
    goal: Goal
    pid: int
    head: str  # HEAD's commit when the switch began (a backup's parent)
    snapshot: str  # the whole tree as read before the switch (a backup's base)
    before: str | None  # app/'s tree then
    target: str | None  # app/'s new tree (None: app/ becomes empty)
    stage: str  # the stage folder, relative to the root
    backup: str | None  # the backup made before switching, if any


def _path(root: Path) -> Path:
    return root / STATE / FILE


def write(root: Path, record: Record) -> None:
    """Replace the record, durably (written, synced, renamed)."""
    path = _path(root)
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(asdict(record), handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    if os.name != "nt":  # make the rename survive a power cut (Windows cannot)
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read(root: Path) -> Record | None:
    """The record of an unfinished switch, or None when there is none."""
    try:
        data = json.loads(_path(root).read_text(encoding="utf-8"))
        return Record(**{**data, "goal": Goal(**data["goal"])})
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise WorkshopError(
            f"{STATE}/{FILE} (the record of an unfinished goto or restore) is "
            f"unreadable ({error}): move it away, check app/, then try again"
        ) from None


def remove(root: Path) -> None:
    _path(root).unlink(missing_ok=True)


def note(root: Path) -> str | None:
    """One line when app/ is half-switched (None when it is not)."""
    try:
        record = read(root)
    except WorkshopError as error:
        return str(error)
    if record is None:
        return None
    who = f"'workshop {record.goal.command}' (pid {record.pid})"
    saved = f" (your work is saved as {record.backup})" if record.backup else ""
    finish = record.goal.to_finish
    return f"app/ is half-switched: {who} did not finish; {finish}{saved}"
