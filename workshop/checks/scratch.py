"""Where a check's child keeps its files: in memory, where the system has a
folder for that.

Every step test writes a fresh SQLite database, and SQLite syncs each commit
to the disk: on a virtual machine's disk that is about 1 ms a commit, some
1,800 commits (1.7 s) in a check of step 7. On Linux, /dev/shm is a tmpfs
(memory), where a sync costs nothing; the child's TMPDIR (pytest's
`tmp_path`, the app's temporary files) goes there. Elsewhere (macOS,
Windows, a /dev/shm too small or read-only) it is the usual temporary folder.
"""

from __future__ import annotations

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
