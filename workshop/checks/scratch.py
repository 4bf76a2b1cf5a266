"""Where a check's child keeps its files: in memory, where the system has a
folder for that.

Every step test writes a fresh SQLite database, and SQLite syncs each commit
to the disk: on a virtual machine's disk that is about 1 ms a commit, some
1,800 commits (1.7 s) in a check of step 7. On Linux, /dev/shm is a tmpfs
(memory), where a sync costs nothing; the child's TMPDIR (pytest's
`tmp_path`, the app's temporary files) goes there. Elsewhere (macOS,
Windows, a /dev/shm too small or read-only) it is the usual temporary folder.

Memory is not given back by a reboot's cleaning of /tmp: a folder whose
`workshop` process was killed (a closed terminal, SIGKILL) before it could
remove it is removed by the next check (`sweep`): its name carries the pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

MEMORY = Path("/dev/shm")
ENOUGH = 256 * 1024**2  # bytes free: a check writes a few MB; leave room


def memory_folder(candidate: Path = MEMORY) -> Path | None:
    """A writable folder in memory with room to spare, or None."""
    if not candidate.is_dir() or not os.access(candidate, os.W_OK | os.X_OK):
        return None
    try:
        free = shutil.disk_usage(candidate).free
    except OSError:
        return None
    return candidate if free >= ENOUGH else None


PREFIX = "workshop-check-"


def prefix() -> str:
    """The start of this process's folders' names: `workshop-check-<pid>-`."""
    return f"{PREFIX}{os.getpid()}-"


def sweep(folder: Path) -> None:
    """Remove this user's check folders in `folder` whose process is gone."""
    if not hasattr(os, "getuid"):
        return
    for path in folder.glob(f"{PREFIX}*-*"):
        pid = path.name.removeprefix(PREFIX).split("-", 1)[0]
        with contextlib.suppress(OSError, ValueError):
            if path.stat().st_uid == os.getuid() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    if os.name != "posix":  # os.kill would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # not ours to signal: it exists
        return True
    return True
