"""What a switch of app/ is doing, kept in .workshop/switch.json while it runs.

A SIGKILL, a power cut or a crash cannot be caught, so before its first
rename a switch writes down what it is doing: where its stage is, the trees
before and after, the backup it made, and how far it got (`phase`):

- "moving": renames are under way; the stage's log says which (workshop/moves.py);
- "switched": app/ is complete; what was moved aside is still to be checked;
- "cleaning": only the stage is left to delete.

The next goto or restore reads it (under the lock, before reading app/) and
rolls the switch back or finishes it (`workshop.switch.recover`). The file is
replaced atomically and synced, so it is either the old or the new version.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
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


@dataclass(frozen=True)
class Entry:
    goal: Goal
    pid: int
    head: str  # HEAD's commit when the switch began (a backup's parent)
    snapshot: str  # the whole tree as read before the switch
    target: str | None  # app/'s new tree (None: app/ becomes empty)
    stage: str  # the stage folder, relative to the root
    backup: str | None  # the backup made before switching, if any
    backup_commit: str | None
    phase: str = "moving"

    def at(self, phase: str) -> Entry:
        return replace(self, phase=phase)


def _path(root: Path) -> Path:
    return root / STATE / FILE


def write(root: Path, entry: Entry) -> None:
    """Replace the journal with `entry`, durably (written, synced, renamed)."""
    path = _path(root)
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(asdict(entry), handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (POSIX; Windows cannot)."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read(root: Path) -> Entry | None:
    """The journal of an unfinished switch, or None when there is none."""
    path = _path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Entry(**{**data, "goal": Goal(**data["goal"])})
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise WorkshopError(
            f"{STATE}/{FILE} (the record of an unfinished goto or restore) is "
            f"unreadable ({error}): move it away, check app/, then try again"
        ) from None


def remove(root: Path) -> None:
    _path(root).unlink(missing_ok=True)
